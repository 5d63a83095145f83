"""The emulated portal's state: records per object type, their property definitions,
associations, owners and issued OAuth tokens, and the validated writes that change them.

Records keep property values as the strings HubSpot stores, plus epoch-ms ``created_at``/
``updated_at`` (which *are* ``createdate``/``hs_lastmodifieddate``; ``hs_object_id`` is the
id). Each table keeps its ids in order (list paging), an index of live records by
(hs_lastmodifieddate, id) (the incremental search cursor), the filtered views of that index
paged searches use (``views``) and one map per unique property.
A write is prepared (validated, typed, derived values computed) before it is applied, so a
batch can check every input first and fail as a whole when HubSpot would.
"""

from __future__ import annotations

from bisect import insort
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from handoff_sync.sandbox.core.seed_data import HubSpotSeedObject, SeedData
from handoff_sync.sandbox.hubspot import schema
from handoff_sync.sandbox.hubspot.associations import (
    HUBSPOT_DEFINED,
    PAIR_OF_TYPE,
    SINGULAR,
    AssociationStore,
)
from handoff_sync.sandbox.hubspot.errors import (
    PropertyError,
    bad_request,
    conflict,
    invalid_properties,
    not_found,
    unknown_object_type,
)
from handoff_sync.sandbox.hubspot.index import SortedKeys
from handoff_sync.sandbox.hubspot.owners import OwnerDirectory
from handoff_sync.sandbox.hubspot.properties import PropertyDef, PropertyRegistry
from handoff_sync.sandbox.hubspot.time import (
    date_text,
    iso_ms,
    parse_date_ms,
    parse_instant_ms,
    to_ms,
)
from handoff_sync.sandbox.hubspot.tokens import TokenRegistry
from handoff_sync.sandbox.hubspot.values import coerce
from handoff_sync.sandbox.hubspot.views import FilteredViews, Key

OBJECT_TYPES: tuple[str, ...] = tuple(schema.PROPERTIES)
SYSTEM_PROPERTIES = ("hs_object_id", "createdate", "hs_lastmodifieddate")
FIRST_ID = 1_000_001  # an empty portal's first record id; later ids count up from the highest
TYPE_ALIASES: dict[str, str] = {
    **{name: name for name in OBJECT_TYPES},
    **{singular: name for name, singular in SINGULAR.items()},
    **{type_id: name for name, type_id in schema.OBJECT_TYPE_IDS.items()},
}
PIPELINES_BY_ID = {p.id: p for p in schema.PIPELINES.get("deals", ())}
NOT_FOUND_HINT = "Object not found.  objectId are usually numeric."


def resolve_type(name: str) -> str:
    """'deals', 'deal' or '0-3' -> 'deals'; anything else is HubSpot's 400."""
    found = TYPE_ALIASES.get(name.lower())
    if found is None:
        raise unknown_object_type(name)
    return found


@dataclass(slots=True)
class HsObject:
    id: int
    properties: dict[str, str]  # set values only; unset means null
    created_at: int  # epoch ms: createdate / createdAt
    updated_at: int  # epoch ms: hs_lastmodifieddate / updatedAt
    archived: bool = False
    archived_at: int | None = None

    def value(self, name: str) -> str | None:
        if name == "hs_object_id":
            return str(self.id)
        if name == "createdate":
            return iso_ms(self.created_at)
        if name == "hs_lastmodifieddate":
            return iso_ms(self.updated_at)
        return self.properties.get(name)


class ObjectTable:
    """The records of one object type and the indexes over them."""

    def __init__(self, object_type: str) -> None:
        self.object_type = object_type
        self.objects: dict[int, HsObject] = {}
        self.ids: list[int] = []  # ascending; archived records included
        self.archived_ids: list[int] = []  # ascending
        self.by_modified = SortedKeys()  # (updated_at, id) of live records
        self.views = FilteredViews()  # subsets of by_modified, told of every change
        self.unique: defaultdict[str, dict[str, int]] = defaultdict(dict)
        self.next_id = FIRST_ID

    def get(self, object_id: int, *, archived: bool = False) -> HsObject | None:
        found = self.objects.get(object_id)
        return found if found is not None and found.archived == archived else None

    def live_count(self) -> int:
        return len(self.by_modified)

    def live_items(self) -> Iterable[tuple[Key, HsObject]]:
        """Live records with their (updated_at, id) keys, in key order."""
        objects = self.objects
        return ((key, objects[key[1]])
                for key in self.by_modified.iter_range(0, len(self.by_modified)))

    def load(self, objects: list[HsObject], unique_names: Collection[str]) -> None:
        """Bulk-add records keeping their ids, then rebuild the indexes once."""
        self.objects.update((obj.id, obj) for obj in objects)
        self.ids = sorted(self.objects)
        self.archived_ids = [i for i in self.ids if self.objects[i].archived]
        live = [obj for obj in self.objects.values() if not obj.archived]
        self.by_modified.rebuild((obj.updated_at, obj.id) for obj in live)
        self.views.clear()
        self.unique.clear()
        for obj in live:
            self._index_unique(obj, unique_names)
        if self.ids:
            self.next_id = max(self.next_id, self.ids[-1] + 1)

    def insert(self, properties: dict[str, str], now_ms: int,
               unique_names: Collection[str]) -> HsObject:
        obj = HsObject(self.next_id, properties, now_ms, now_ms)
        self.next_id += 1
        self.objects[obj.id] = obj
        self.ids.append(obj.id)  # new ids are always the highest
        self.by_modified.add((now_ms, obj.id))
        self.views.added((now_ms, obj.id), obj)
        self._index_unique(obj, unique_names)
        return obj

    def modify(self, obj: HsObject, changes: dict[str, str | None], now_ms: int,
               unique_names: Collection[str]) -> None:
        touched = [name for name in unique_names if name in changes]
        self._unindex_unique(obj, touched)
        for name, value in changes.items():
            if value is None:
                obj.properties.pop(name, None)
            else:
                obj.properties[name] = value
        self._index_unique(obj, touched)
        self.by_modified.discard((obj.updated_at, obj.id))
        self.views.removed((obj.updated_at, obj.id))
        obj.updated_at = now_ms
        self.by_modified.add((now_ms, obj.id))
        self.views.added((now_ms, obj.id), obj)

    def archive(self, obj: HsObject, now_ms: int, unique_names: Collection[str]) -> None:
        # hs_lastmodifieddate stays put: that is why incremental search never sees deletes.
        self.by_modified.discard((obj.updated_at, obj.id))
        self.views.removed((obj.updated_at, obj.id))
        self._unindex_unique(obj, unique_names)
        obj.archived, obj.archived_at = True, now_ms
        insort(self.archived_ids, obj.id)

    def _index_unique(self, obj: HsObject, names: Iterable[str]) -> None:
        for name in names:
            value = obj.properties.get(name)
            if value is not None:
                self.unique[name][value] = obj.id

    def _unindex_unique(self, obj: HsObject, names: Iterable[str]) -> None:
        for name in names:
            value = obj.properties.get(name)
            if value is not None and self.unique[name].get(value) == obj.id:
                del self.unique[name][value]


AssociationInput = tuple[str, int, int]  # (to type, to id, association type id)


@dataclass
class Write:
    """A validated create (``target is None``) or update, ready to apply."""

    object_type: str
    target: HsObject | None
    changes: dict[str, str | None]
    associations: list[AssociationInput] = field(default_factory=list)


class HubSpotStore:
    def __init__(self) -> None:
        self.properties = PropertyRegistry()
        self.associations = AssociationStore()
        self.owners = OwnerDirectory()
        self.tokens = TokenRegistry()
        self.tables = {object_type: ObjectTable(object_type) for object_type in OBJECT_TYPES}

    def reset(self) -> None:
        self.properties.reset()
        self.associations.reset()
        self.owners.reset()
        self.tokens.reset()
        self.tables = {object_type: ObjectTable(object_type) for object_type in OBJECT_TYPES}

    def table(self, object_type: str) -> ObjectTable:
        return self.tables[object_type]

    def unique_names(self, object_type: str) -> list[str]:
        return self.properties.unique_names(object_type)

    # --- reads ------------------------------------------------------------------------
    def find(self, object_type: str, key: str, *, archived: bool = False,
             id_property: str | None = None) -> HsObject | None:
        """A record by id or by the value of a unique property; None if there is none."""
        table = self.tables[object_type]
        if id_property and id_property != "hs_object_id":
            self.require_unique_property(object_type, id_property)
            if archived:
                return next((o for o in table.objects.values()
                             if o.archived and o.properties.get(id_property) == key), None)
            holder = table.unique[id_property].get(key)
            return table.get(holder) if holder is not None else None
        return table.get(int(key), archived=archived) if key.isdigit() else None

    def require(self, object_type: str, key: str, *, archived: bool = False,
                id_property: str | None = None) -> HsObject:
        found = self.find(object_type, key, archived=archived, id_property=id_property)
        if found is None:
            message = "resource not found" if key.isdigit() or id_property else NOT_FOUND_HINT
            raise not_found(message, context={"id": [key]})
        return found

    def require_unique_property(self, object_type: str, name: str) -> PropertyDef:
        """idProperty must name a unique property; the record id itself always qualifies."""
        prop = self.properties.get(object_type, name)
        if prop is None or not (prop.has_unique_value or name == "hs_object_id"):
            raise bad_request(
                f"{name} is not a unique identifier property of {object_type}; idProperty "
                "must name a property with hasUniqueValue=true.",
                context={"idProperty": [name]},
            )
        return prop

    def allowed_values(self, object_type: str, prop: PropertyDef) -> list[str] | None:
        """The values an enumeration accepts (None: not checked here)."""
        if prop.type != "enumeration" or prop.external == "stages":
            return None
        if prop.external == "pipelines":
            return list(PIPELINES_BY_ID)
        if prop.external == "owners":
            return self.owners.active_ids()
        return [value for _, value in prop.options]

    def option_pairs(self, prop: PropertyDef) -> list[tuple[str, str]]:
        """(label, value) options as the properties API lists them."""
        if prop.external == "pipelines":
            return [(p.label, p.id) for p in PIPELINES_BY_ID.values()]
        if prop.external == "stages":
            return [(s.label, s.id) for p in PIPELINES_BY_ID.values() for s in p.stages]
        if prop.external == "owners":
            return self.owners.labelled_options()
        return list(prop.options)

    # --- writes -----------------------------------------------------------------------
    def prepare_create(self, object_type: str, properties: Any,
                       associations: Any = None) -> Write:
        changes = self._typed_changes(object_type, properties, {}, creating=True)
        links = self._association_inputs(object_type, associations)
        return Write(object_type, None, changes, links)

    def prepare_update(self, object_type: str, target: HsObject, properties: Any) -> Write:
        changes = self._typed_changes(object_type, properties, target.properties,
                                      creating=False)
        return Write(object_type, target, changes)

    def check_unique(self, write: Write, claimed: dict[tuple[str, str], int] | None = None
                     ) -> None:
        """409 if a unique value is held by another record (or another input of a batch)."""
        table = self.tables[write.object_type]
        own = write.target.id if write.target is not None else -id(write)
        for name in self.unique_names(write.object_type):
            value = write.changes.get(name)
            if value is None:
                continue
            holder = table.unique[name].get(value)
            if holder is not None and holder != own:
                raise conflict(f"{SINGULAR[write.object_type].capitalize()} already exists. "
                               f"Existing ID: {holder}", context={"propertyName": [name]})
            if claimed is not None and claimed.setdefault((name, value), own) != own:
                raise conflict(f"Duplicate value '{value}' for unique property {name} "
                               "in this batch.", context={"propertyName": [name]})

    def apply(self, write: Write, now_ms: int) -> HsObject:
        table = self.tables[write.object_type]
        unique = self.unique_names(write.object_type)
        changes = write.changes
        if write.object_type == "deals":
            changes = {**changes, **_stage_history(write, now_ms)}
        if write.target is None:
            values = {name: v for name, v in changes.items() if v is not None}
            obj = table.insert(values, now_ms, unique)
            for to_type, to_id, type_id in write.associations:
                self.associations.add(write.object_type, obj.id, to_type, to_id, type_id)
            return obj
        table.modify(write.target, changes, now_ms, unique)
        return write.target

    def archive(self, object_type: str, obj: HsObject, now_ms: int) -> None:
        if obj.archived:
            return
        self.tables[object_type].archive(obj, now_ms, self.unique_names(object_type))
        self.associations.drop_object(object_type, obj.id)

    def _typed_changes(self, object_type: str, raw: Any, current: dict[str, str], *,
                       creating: bool) -> dict[str, str | None]:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise bad_request("properties: expected an object of property name -> string value")
        changes: dict[str, str | None] = {}
        errors: list[PropertyError] = []
        for name, value in raw.items():
            typed, error = self._typed_value(object_type, str(name), value)
            if error is not None:
                errors.append(error)
            else:
                changes[str(name)] = typed
        if object_type == "deals":
            errors += _deal_rules(changes, current, creating=creating)
        elif object_type == "tasks":
            errors += _task_rules(changes, creating=creating)
        if errors:
            raise invalid_properties(errors)
        return changes

    def _typed_value(self, object_type: str, name: str, value: Any
                     ) -> tuple[str | None, PropertyError | None]:
        prop = self.properties.get(object_type, name)
        if prop is None:
            return None, PropertyError(name, "PROPERTY_DOESNT_EXIST",
                                       f'Property "{name}" does not exist')
        if prop.read_only_value:
            return None, PropertyError(name, "READ_ONLY_VALUE",
                                       f"{name} is a read only property; its value cannot be set.")
        return coerce(prop, value, self.allowed_values(object_type, prop))

    def _association_inputs(self, from_type: str, raw: Any) -> list[AssociationInput]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise bad_request("associations: expected a list of {to: {id}, types: [...]}")
        return [link for item in raw for link in self._association_input(from_type, item)]

    def _association_input(self, from_type: str, item: Any) -> list[AssociationInput]:
        to = item.get("to") if isinstance(item, dict) else None
        types = item.get("types") if isinstance(item, dict) else None
        if not isinstance(to, dict) or not isinstance(types, list) or not types:
            raise bad_request("associations[]: expected {to: {id}, types: [{associationCategory,"
                              " associationTypeId}]}")
        links = []
        for spec in types:
            to_type, type_id = self.association_type(from_type, spec)
            to_id = str(to.get("id", ""))
            if self.find(to_type, to_id) is None:
                raise bad_request(f"Cannot associate {SINGULAR[from_type]} with "
                                  f"{SINGULAR[to_type]} {to_id}: it does not exist.",
                                  context={"toObjectId": [to_id]})
            links.append((to_type, int(to_id), type_id))
        return links

    def association_type(self, from_type: str, spec: Any,
                         to_type: str | None = None) -> tuple[str, int]:
        """Check an {associationCategory, associationTypeId} spec; (to type, type id)."""
        category = spec.get("associationCategory") if isinstance(spec, dict) else None
        type_id = spec.get("associationTypeId") if isinstance(spec, dict) else None
        pair = PAIR_OF_TYPE.get(type_id) if isinstance(type_id, int) else None
        if (category != HUBSPOT_DEFINED or pair is None or pair[0] != from_type
                or (to_type is not None and pair[1] != to_type)):
            target = f" and {to_type}" if to_type else ""
            raise bad_request(f"{category} {type_id} is not a valid association type between "
                              f"{from_type}{target}.",
                              context={"associationTypeId": [str(type_id)]})
        assert isinstance(type_id, int)  # pair is only found for an int id
        return pair[1], type_id

    # --- seed -------------------------------------------------------------------------
    def load(self, data: SeedData) -> None:
        """Add a generated org: ids, timestamps and values kept as given."""
        for name, seeds in data.hubspot.items():
            object_type = resolve_type(name)
            normalise = _seed_normaliser(self.properties.every(object_type))
            objects = [_seed_object(seed, normalise) for seed in seeds]
            if object_type == "deals":
                for obj in objects:
                    _derive_seeded_deal(obj)
            self.tables[object_type].load(objects, self.unique_names(object_type))
        for from_type, from_id, to_type, to_id, type_id in data.hubspot_associations:
            self.associations.add(resolve_type(from_type), int(from_id),
                                  resolve_type(to_type), int(to_id), type_id)
        self.owners.load(data.hubspot_owners)


def _derive_seeded_deal(obj: HsObject) -> None:
    """The calculated stage facts; a deal without any history of its stage entered it
    when it was created (as one created in that stage would have)."""
    stage = obj.properties.get("dealstage")
    facts = _deal_stage_facts(obj.properties.get("pipeline"), stage)
    for name, value in facts.items():  # None unsets, as in modify()
        if value is None:
            obj.properties.pop(name, None)
        else:
            obj.properties[name] = value
    if stage is not None:
        obj.properties.setdefault(schema.date_entered(stage), iso_ms(obj.created_at))


def _stage_history(write: Write, now_ms: int) -> dict[str, str | None]:
    """A stage change stamps the new stage's hs_date_entered_ (re-entering overwrites it:
    HubSpot keeps the latest) and the old stage's hs_date_exited_ with the write's time."""
    if "dealstage" not in write.changes:
        return {}
    old = write.target.properties.get("dealstage") if write.target is not None else None
    new = write.changes["dealstage"]
    if new == old:
        return {}
    stamp = iso_ms(now_ms)
    times: dict[str, str | None] = {}
    if old is not None:
        times[schema.date_exited(old)] = stamp
    if new is not None:
        times[schema.date_entered(new)] = stamp
    return times


def _seed_object(seed: HubSpotSeedObject, normalise: dict[str, Any]) -> HsObject:
    values = {name: value for name, value in seed.properties.items()
              if value is not None and name not in SYSTEM_PROPERTIES}
    for name, convert in normalise.items():
        raw = values.get(name)
        if raw is not None:
            values[name] = convert(raw)
    return HsObject(int(seed.id), values, to_ms(seed.created_at), to_ms(seed.updated_at))


def _seed_normaliser(props: list[PropertyDef]) -> dict[str, Any]:
    """Seed date(-time) values become the text the API returns: dates 'YYYY-MM-DD',
    date-times ISO UTC with ms (already-canonical values pass untouched, for speed)."""

    def as_datetime(raw: str) -> str:
        if len(raw) == len("2024-05-01T12:00:00.123Z") and raw.endswith("Z"):
            return raw
        ms = parse_instant_ms(raw)
        return raw if ms is None else iso_ms(ms)

    def as_date(raw: str) -> str:
        if len(raw) == len("2024-05-01"):
            return raw
        ms = parse_date_ms(raw)
        return raw if ms is None else date_text(ms)

    return {p.name: as_datetime if p.type == "datetime" else as_date
            for p in props if p.type in ("date", "datetime") and p.name not in SYSTEM_PROPERTIES}


def _deal_rules(changes: dict[str, str | None], current: dict[str, str], *,
                creating: bool) -> list[PropertyError]:
    """Pipeline defaults to 'default', the stage must belong to it, stage facts follow."""
    if creating and changes.get("pipeline") is None:
        changes["pipeline"] = "default"
    if not creating and "pipeline" not in changes and "dealstage" not in changes:
        return []
    pipeline_id = changes.get("pipeline", current.get("pipeline")) or "default"
    stage_id = changes["dealstage"] if "dealstage" in changes else current.get("dealstage")
    pipeline = PIPELINES_BY_ID.get(pipeline_id)
    if pipeline is None:
        return []  # the pipeline value itself was already reported as INVALID_OPTION
    stage_ids = [stage.id for stage in pipeline.stages]
    if stage_id is not None and stage_id not in stage_ids:
        return [PropertyError("dealstage", "INVALID_OPTION",
                              f"{stage_id} was not one of the allowed options: "
                              f"[{', '.join(stage_ids)}]")]
    changes.update(_deal_stage_facts(pipeline_id, stage_id))
    return []


@lru_cache(maxsize=256)
def _deal_stage_facts(pipeline_id: str | None, stage_id: str | None) -> dict[str, str | None]:
    """hs_is_closed, hs_is_closed_won and hs_deal_stage_probability of a stage (shared:
    callers copy it with ``dict.update``, never mutate it)."""
    pipeline = PIPELINES_BY_ID.get(pipeline_id or "default")
    stage = next((s for s in pipeline.stages if s.id == stage_id), None) if pipeline else None
    if stage is None:
        return {"hs_is_closed": "false", "hs_is_closed_won": "false",
                "hs_deal_stage_probability": None}
    won = stage.is_closed and float(stage.probability) >= 1.0
    return {"hs_is_closed": str(stage.is_closed).lower(), "hs_is_closed_won": str(won).lower(),
            "hs_deal_stage_probability": stage.probability}


def _task_rules(changes: dict[str, str | None], *, creating: bool) -> list[PropertyError]:
    """hs_timestamp (the due date) is required; a new task starts NOT_STARTED."""
    if creating and changes.get("hs_task_status") is None:
        changes["hs_task_status"] = "NOT_STARTED"
    if (creating or "hs_timestamp" in changes) and changes.get("hs_timestamp") is None:
        return [PropertyError("hs_timestamp", "REQUIRED_FIELD",
                              "hs_timestamp is required: the task's due date "
                              "(epoch ms or ISO-8601)")]
    return []
