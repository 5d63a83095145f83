"""Load and validate a mappings folder: two system files and handoff.yaml, as one set.

``load_mappings`` returns a ``MappingSet`` or raises ``MappingError`` listing every
problem of every file (YAML syntax, structure, meaning, and references between files).
A folder holds exactly ``handoff.yaml`` plus one file per system, named after it
(``salesforce.yaml``, ``hubspot.yaml``, or ``files.yaml`` for a PRM file drop); one must be
the PRM side and one the CRM side.

One pass finds them all: a file with a structural problem still takes part with the
parts of it that loaded (``problems.partial``), so a typo in salesforce.yaml and a gate
in handoff.yaml naming a field neither system file maps are reported together. What
did not load is unknown, never absent: a check that depends on it is skipped rather
than guessed (``FieldCatalog.maybe_provided``, ``policy.defined``, ``Gaps``), so no
"unknown field" is reported because the file defining the field has a typo elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Generic, TypeVar

from connectors.reading import did_you_mean
from connectors.registry import SYSTEMS
from handoff_sync.errors import MappingError
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.policy.advisories import policy_warnings
from handoff_sync.mapping.policy.checks import POLICY_PARTS, FieldCatalog, check_policy
from handoff_sync.mapping.policy.defined import UNKNOWN, Defined, handoff_ids
from handoff_sync.mapping.policy.file_model import HandoffPolicy
from handoff_sync.mapping.policy.readiness_checks import (
    UNKNOWN_PARTNERS,
    PartnerField,
    PartnerFields,
)
from handoff_sync.mapping.system.compile import compile_system, system_parts
from handoff_sync.mapping.system.conflicts import ConflictPolicy, FieldSync
from handoff_sync.mapping.system.convert import SystemMapping
from handoff_sync.mapping.system.file_model import SystemFile
from handoff_sync.model import FieldType, Role, SystemName
from handoff_sync.problems.partial import Validated, validate_document
from handoff_sync.problems.report import Problem
from handoff_sync.problems.yaml_source import YamlDocument, read_yaml_file

POLICY_HINT = (f"add 'policy: {ConflictPolicy.PRM_WINS}' (or "
               + ", ".join(p for p in ConflictPolicy
                           if p not in (ConflictPolicy.PRM_WINS, ConflictPolicy.READ_ONLY))
               + ")")
"""What to add when a field both systems read and one writes names no policy."""

POLICY_FILE = "handoff.yaml"
MAX_FILES = 20

M = TypeVar("M", SystemFile, HandoffPolicy)


def load_mappings(folder: Path) -> MappingSet:
    """The folder's mappings, fully validated; raises MappingError with every problem."""
    mapping_set, problems = validate_mappings(folder)
    if problems or mapping_set is None:
        raise MappingError(problems)
    return mapping_set


def validate_mappings(folder: Path) -> tuple[MappingSet | None, list[Problem]]:
    """Like load_mappings, but returns the problems (sorted by file, line and column)
    instead of raising. The one validation of a folder: `mappings validate`, `plan`,
    each sync cycle and the daemon all call it, so they all list the same problems. What
    validates but deserves a look (a stage with no gate) is on the MappingSet's
    ``warnings``, never a problem."""
    folder = Path(folder)
    if not folder.is_dir():
        return None, [Problem(folder, 1, 1, (), "not a folder",
                              "pass the folder holding handoff.yaml (--mappings DIR)")]
    problems: list[Problem] = []
    found = _read_folder(folder, problems)
    systems = {system: _validate_system(document, found.role_stand_ins.get(system), problems)
               for system, document in found.systems.items()}
    prm, crm = _sides(folder, systems, found.doubtful, problems)
    compiled: dict[SystemName, SystemMapping] = {}
    for system, side in systems.items():
        if side.loaded.model is not None:
            mapping, meaning = compile_system(side.document, side.loaded.model, system,
                                              side.loaded.gaps)
            problems.extend(meaning)
            compiled[system] = mapping
    sides: dict[Role, _Side | None] = {
        role: (compiled[system], systems[system]) if system in compiled else None
        for role, system in ((Role.PRM, prm), (Role.CRM, crm))}
    catalog = _catalog(sides)
    policy = found.policy
    if policy is not None and policy.loaded.model is not None:
        problems.extend(check_policy(policy.document, policy.loaded.model, catalog,
                                     policy.loaded.gaps, _partner_fields(sides[Role.PRM])))
        prm_side = sides[Role.PRM]
        if prm_side is not None and not prm_side[1].loaded.gaps.lost(("tasks",)):
            problems.extend(_check_task_sides(policy.document, policy.loaded.model,
                                              prm_side[0]))
    type_ids, stage_ids = handoff_ids(policy.document.data) if policy else (UNKNOWN, UNKNOWN)
    for system, mapping in compiled.items():
        problems.extend(_check_policy_ids(systems[system].document, mapping, type_ids,
                                          stage_ids))
    prm_side, crm_side = sides[Role.PRM], sides[Role.CRM]
    if policy is not None and policy.loaded.model is not None and crm_side is not None:
        problems.extend(_check_creation(policy.document, policy.loaded.model, crm_side))
    sync = (_field_sync(prm_side, crm_side, catalog, problems)
            if prm_side is not None and crm_side is not None else {})
    if prm_side is not None:
        problems.extend(_check_partner_match(prm_side, catalog))
    problems = sorted(dict.fromkeys(problems), key=lambda p: p.sort_key)
    if problems or prm_side is None or crm_side is None or policy is None \
            or policy.loaded.model is None or policy.loaded.gaps:
        return None, problems
    return MappingSet(folder, prm_side[0], crm_side[0], policy.loaded.model,
                      MappingProxyType(sync),
                      tuple(policy_warnings(policy.document, policy.loaded.model))), []


@dataclass(frozen=True)
class _File(Generic[M]):
    """One file of the folder: as read, and what its structure check made of it."""

    document: YamlDocument
    loaded: Validated[M]


_Side = tuple[SystemMapping, _File[SystemFile]]  # a system file that compiled, by role


@dataclass
class _Found:
    """The files of a folder, read and checked one by one."""

    systems: dict[SystemName, YamlDocument] = field(default_factory=dict)
    policy: _File[HandoffPolicy] | None = None
    doubtful: bool = False  # a YAML file that could hold a system's side did not load
    role_stand_ins: dict[SystemName, str] = field(default_factory=dict)


def _read_folder(folder: Path, problems: list[Problem]) -> _Found:
    files = sorted(p for p in folder.iterdir()
                   if p.suffix in (".yaml", ".yml") and p.is_file())[:MAX_FILES]
    known = [f"{s.value}.yaml" for s in SystemName] + [POLICY_FILE]
    found = _Found()
    policy_seen = False
    for file in files:
        if file.name not in known:
            problems.append(Problem(file, 1, 1, (), f"unexpected file '{file.name}' in a "
                                    "mappings folder", did_you_mean(file.name, known) or
                                    f"expected {', '.join(known)}"))
            found.doubtful = True  # a misnamed system file: its side is unknown
            continue
        document, read_problems = read_yaml_file(file)
        problems.extend(read_problems)
        if file.name == POLICY_FILE:
            policy_seen = True
            if document is not None:
                loaded = validate_document(HandoffPolicy, document, parts=POLICY_PARTS)
                problems.extend(loaded.problems)
                found.policy = _File(document, loaded)
        elif document is None:
            found.doubtful = True
        else:
            found.systems[SystemName(file.stem)] = document
    if not policy_seen:
        problems.append(Problem(folder / POLICY_FILE, 1, 1, (), "handoff.yaml is missing",
                                "copy it from a default pack (see docs/admin-guide.md)"))
    found.role_stand_ins = _role_stand_ins(found.systems)
    return found


def _role_stand_ins(systems: Mapping[SystemName, YamlDocument]) -> dict[SystemName, str]:
    """A system file whose role is missing or wrong stands in as the other side when the
    folder's other system file names its own: its entries still meet handoff.yaml."""
    roles = {system: document.data.get("role") for system, document in systems.items()}
    named = {system: role for system, role in roles.items() if role in ("prm", "crm")}
    if len(systems) != 2 or len(named) != 1:
        return {}
    [(system, role)] = named.items()
    other = next(s for s in systems if s is not system)
    return {other: Role.CRM.value if role == Role.PRM.value else Role.PRM.value}


def _validate_system(document: YamlDocument, role: str | None,
                     problems: list[Problem]) -> _File[SystemFile]:
    loaded = validate_document(SystemFile, document, parts=system_parts(role))
    problems.extend(loaded.problems)
    return _File(document, loaded)


def _raw_field_keys(document: YamlDocument) -> set[str]:
    fields = document.data.get("fields") if isinstance(document.data, dict) else None
    return {str(k) for k in fields} if isinstance(fields, dict) else set()


def _sides(folder: Path, systems: Mapping[SystemName, _File[SystemFile]], doubtful: bool,
           problems: list[Problem]) -> tuple[SystemName | None, SystemName | None]:
    by_role: dict[str, list[SystemName]] = {"prm": [], "crm": []}
    for system, side in systems.items():
        if side.loaded.model is not None:
            by_role[side.loaded.model.role].append(system)
    # A system file that did not load, or whose role is unknown, may be the missing side.
    doubtful = doubtful or any(side.loaded.model is None for side in systems.values())
    for role, found in by_role.items():
        if len(found) > 1:
            for system in found:
                document = systems[system].document
                problems.append(document.problem(("role",), f"both {' and '.join(found)} "
                                                 f"claim role '{role}'", "one system file "
                                                 "must be prm and the other crm"))
        elif not found and not doubtful:
            names = ", ".join(f"{s.value}.yaml" for s in SystemName)
            problems.append(Problem(folder, 1, 1, (), f"no system file has role '{role}'",
                                    f"a mappings folder needs one prm and one crm file "
                                    f"({names})"))
    prm = by_role["prm"][0] if len(by_role["prm"]) == 1 else None
    crm = by_role["crm"][0] if len(by_role["crm"]) == 1 else None
    return prm, crm


def _catalog(sides: Mapping[Role, _Side | None]) -> FieldCatalog:
    """What the two sides provide; a side that did not load (or whose ``fields:`` did
    not) is unknown, and the entries of a side that did not load are unsure."""
    types: dict[str, FieldType] = {}
    read_by: dict[str, set[Role]] = {}
    unsure: dict[Role, frozenset[str]] = {}
    unknown: set[Role] = set()
    files: list[str] = []
    for role, side in sides.items():
        if side is None:
            unknown.add(role)
            continue
        mapping, file = side
        files.append(mapping.file.name)
        if file.loaded.gaps.lost(("fields",)):
            unknown.add(role)
        unsure[role] = frozenset(_raw_field_keys(file.document) - set(mapping.fields))
        for name, rule in mapping.fields.items():
            types.setdefault(name, rule.type)
            if rule.reads:
                read_by.setdefault(name, set()).add(mapping.role)
    prm = sides.get(Role.PRM)
    partners = prm[0].partners if prm is not None else None
    partner_types = ({name: rule.type for name, rule in partners.fields.items()}
                     if partners is not None else {})
    partners_unsure = prm is None or not prm[1].loaded.gaps.whole(("partners",)) or (
        partners is None and prm[1].loaded.model is not None
        and prm[1].loaded.model.partners is not None)
    return FieldCatalog(MappingProxyType(types),
                        MappingProxyType({k: frozenset(v) for k, v in read_by.items()}),
                        tuple(files), MappingProxyType(unsure), frozenset(unknown),
                        MappingProxyType(partner_types), partners_unsure)


def _partner_fields(prm: _Side | None) -> PartnerFields:
    """What the PRM file's partners: section maps, for measures.readiness's checks."""
    if prm is None:
        return UNKNOWN_PARTNERS
    mapping, file = prm
    name = mapping.file.name
    # A file drop holds no partner accounts: handoff.yaml's readiness is left unscored
    # there (the report says so), so one handoff.yaml serves every PRM.
    if file.loaded.gaps.lost(("partners",)) \
            or SYSTEMS[mapping.system.value].read_only is not None:
        return PartnerFields(name, unknown=True)
    section = mapping.partners
    if section is None:
        # A section that is written but did not compile is reported on its own.
        written = isinstance(file.document.data, dict) and "partners" in file.document.data
        return PartnerFields(name, unknown=written)
    raw = file.document.data["partners"].get("fields") if isinstance(
        file.document.data.get("partners"), dict) else None
    unsure = frozenset(str(k) for k in raw) - set(section.fields) if isinstance(
        raw, dict) else frozenset()
    fields = {field: PartnerField(rule.type, None if rule.values is None else tuple(
        dict.fromkeys(str(v) for v in rule.values.values())))
        for field, rule in section.fields.items()}
    return PartnerFields(name, fields, attaches_tasks=section.task_link_field is not None
                         or section.task_association_type_id is not None, unsure=unsure)


def _field_sync(prm_side: _Side, crm_side: _Side, catalog: FieldCatalog,
                problems: list[Problem]) -> dict[str, FieldSync]:
    """How each field moves between the systems; a problem where the two files disagree
    or a field cannot move (nothing said where an entry that did not load may decide)."""
    (prm, prm_file), (crm, crm_file) = prm_side, crm_side
    docs = {Role.PRM: prm_file.document, Role.CRM: crm_file.document}
    sync: dict[str, FieldSync] = {}
    for name in [*prm.fields, *(n for n in crm.fields if n not in prm.fields)]:
        p, c = prm.fields.get(name), crm.fields.get(name)
        if (p is None and catalog.may_read(name, Role.PRM)) \
                or (c is None and catalog.may_read(name, Role.CRM)):
            continue
        if p is not None and c is not None and p.type is not c.type:
            problems.append(docs[Role.CRM].problem(c.path, f"'{name}' is {c.type.value} here "
                                                   f"but {p.type.value} in {prm.file.name}",
                                                   "use transforms that produce the same type"))
            continue
        declared = {r.policy for r in (p, c) if r is not None and r.policy is not None}
        if len(declared) > 1:
            assert c is not None
            problems.append(docs[Role.CRM].problem((*c.path, "policy"), f"'{name}' has policy "
                                                   f"'{c.policy}' here but '{p and p.policy}' "
                                                   f"in {prm.file.name}",
                                                   "declare it once, or make them agree"))
            continue
        prm_reads, crm_reads = bool(p and p.reads), bool(c and c.reads)
        # Report on the CRM entry first: policies conventionally live in the CRM file.
        writes = [r for r in (c, p) if r is not None and r.writes]
        policy = next(iter(declared), None)
        if writes and not (prm_reads or crm_reads):
            rule = writes[0]
            doc = docs[Role.PRM if rule is p else Role.CRM]
            problems.append(doc.problem((*rule.path, "direction"), f"'{name}' is written but "
                                        "no system reads it, so there is no value to write",
                                        "map it with direction read or both on one side"))
            continue
        if policy is None:
            if prm_reads and crm_reads and writes:
                rule = writes[0]
                doc = docs[Role.PRM if rule is p else Role.CRM]
                problems.append(doc.problem(rule.path, f"'{name}' is read from both systems "
                                            "and written back, so it needs a conflict policy",
                                            POLICY_HINT))
                continue
            policy = ConflictPolicy.PRM_WINS if prm_reads and not crm_reads else (
                ConflictPolicy.CRM_WINS if crm_reads and not prm_reads
                else ConflictPolicy.READ_ONLY)
        field_type = (p or c).type  # type: ignore[union-attr]
        sync[name] = FieldSync(name, field_type, policy, prm_reads, bool(p and p.writes),
                               crm_reads, bool(c and c.writes))
    return sync


def _check_creation(document: YamlDocument, policy: HandoffPolicy,
                    crm: _Side) -> list[Problem]:
    """handoff.yaml asks for opportunities to be created: the CRM file must say how."""
    mapping, file = crm
    if policy.creation is None or mapping.create is not None \
            or not file.loaded.gaps.whole(("create",)):
        return []  # there is one, or one that did not load (its problems are listed)
    return [document.problem(("creation",), f"opportunities are to be created, but "
                             f"{mapping.file.name} (the CRM side) has no create: section",
                             "add one (see docs/admin-guide.md, 'Creating opportunities'), "
                             "or remove creation: to grade existing opportunities only",
                             at_key=True)]


def _check_task_sides(document: YamlDocument, policy: HandoffPolicy,
                      prm: SystemMapping) -> list[Problem]:
    """A task written to the PRM (side: prm) needs the PRM file's tasks section. A PRM
    handoff-sync cannot write (a file drop) holds none: its side: prm tasks are written
    on the opportunity instead (engine.tasks), as they were before tasks had sides."""
    if prm.tasks is not None or SYSTEMS[prm.system.value].read_only is not None:
        return []
    return [document.problem(
        ("handoff_types", type_id, "tasks", index, "side"),
        f"side: prm tasks are written to the PRM, but {prm.file.name} has no tasks section",
        f"add 'tasks:' to {prm.file.name} (see docs/admin-guide.md), or write side: crm")
        for type_id, handoff in policy.handoff_types.items()
        for index, task in enumerate(handoff.tasks) if task.side == Role.PRM.value]


def _check_partner_match(prm: _Side, catalog: FieldCatalog) -> list[Problem]:
    """Partner accounts are matched to deals by name: some side must read the deal's
    partner_account, or no deal would ever belong to a partner."""
    mapping, file = prm
    name = "partner_account"
    if mapping.partners is None or catalog.provided(name) \
            or any(catalog.may_read(name, role) for role in Role):
        return []
    files = " or ".join(catalog.files) or "a system file"
    return [file.document.problem(
        ("partners", "name_field"), "partner accounts are matched to deals by the deal's "
        "partner_account, which no system file maps, so no deal would belong to a partner",
        f"map partner_account in {files} (the field that names the deal's partner)")]


def _check_policy_ids(document: YamlDocument, mapping: SystemMapping, type_ids: Defined,
                      stage_ids: Defined) -> list[Problem]:
    """Value maps into handoff_type/handoff_stage must name ids handoff.yaml defines."""
    problems: list[Problem] = []
    for name, defined, what in (("handoff_type", type_ids, "handoff type"),
                                ("handoff_stage", stage_ids, "stage")):
        rule = mapping.fields.get(name)
        if rule is None or rule.values is None:
            continue
        ids = list(defined.ids) if what != "stage" else sorted(set(defined.ids))
        for key, target in rule.values.items():
            if defined.lacks(str(target)):
                problems.append(document.problem(
                    (*rule.path, "values", key), f"'{target}' is not a {what} id in "
                    f"{POLICY_FILE}", did_you_mean(str(target), ids) or
                    f"{what} ids: {', '.join(ids)}"))
    return problems
