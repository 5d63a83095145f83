"""The review queue as the console shows it: items grouped as `handoff-sync review` groups
them, with their deals, accounts, partners and people named, filtered and counted.

Pure: the page (``pages/review.py``) reads the items and the records they name from the
store and hands them here. A name comes from the record as last read (the mirror, mapped
by the pipeline's mappings), people from the values last agreed for the pair when there
are some (the mirror holds CRM owners as user ids; the agreed values hold their emails).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handoff_sync.errors import UserError
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import SystemMapping, to_canonical
from handoff_sync.model import OwnerDirectory
from handoff_sync.store.reviews import LINKABLE, ReviewStatus, registrations_of
from handoff_sync.store.types import DealRecords, MirrorRecord
from handoff_sync.sync.review_groups import UNRESOLVED_OWNER, ReviewEntry, group_reviews

STATUSES = ("open", "dismissed", "resolved", "all")
LINKABLE_KINDS = frozenset(kind.value for kind in LINKABLE)
PEOPLE = (("partner_rep_email", "partner rep"), ("ae_email", "AE"),
          ("cs_owner_email", "CS owner"))
ROLE_LABELS = {"crm_owner": "account executive", "cs_owner": "CS owner",
               "prm_owner": "channel manager", "partner_rep": "partner rep"}


class FilterError(UserError):
    """A filter value the page cannot use; names the field."""

    hint = "choose a value the filter offers"

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class Filters:
    """What the admin narrowed the queue to (the filter form's fields)."""

    pipeline: str = ""
    kind: str = ""
    status: str = "open"
    partner: str = ""
    q: str = ""

    @classmethod
    def parse(cls, values: Mapping[str, str], pipelines: Sequence[str]) -> Filters:
        """The filters from a query string; FilterError naming a field it cannot use."""
        def text(name: str) -> str:
            return " ".join(str(values.get(name, "") or "").split())[:200]

        filters = cls(pipeline=text("pipeline"), kind=text("kind"),
                      status=text("status") or "open", partner=text("partner"), q=text("q"))
        if filters.pipeline and filters.pipeline not in pipelines:
            raise FilterError("pipeline", f"no pipeline {filters.pipeline!r}: choose one of "
                                          f"{', '.join(pipelines)}")
        if filters.status not in STATUSES:
            raise FilterError("status", f"no status {filters.status!r}: choose one of "
                                        f"{', '.join(STATUSES)}")
        return filters

    @property
    def store_status(self) -> str | None:
        return None if self.status == "all" else self.status

    def query(self, **changed: str) -> dict[str, str]:
        """The filters as query parameters (blank ones left out), some changed."""
        values = {"pipeline": self.pipeline, "kind": self.kind, "status": self.status,
                  "partner": self.partner, "q": self.q, **changed}
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class Deal:
    """One deal as the page names it: the registration and/or the opportunity."""

    key: str
    prm_id: str | None = None
    crm_id: str | None = None
    name: str | None = None
    account: str | None = None
    partner: str | None = None
    people: tuple[tuple[str, str], ...] = ()  # (label, email)
    crm_name: str | None = None  # the opportunity's own name, when it differs

    @property
    def label(self) -> str:
        return self.name or self.crm_name or self.key


@dataclass
class Entry:
    """One line of the page: an item, or one person's unresolved_owner items."""

    item: Mapping[str, Any]
    keys: list[str]
    deals: list[Deal]  # the deals it is about, named
    candidates: list[tuple[Deal, float, str]] = field(default_factory=list)
    targets: list[Deal] = field(default_factory=list)  # opportunities to offer for a link
    registrations: list[Deal] = field(default_factory=list)  # the ones a link may take

    @property
    def kind(self) -> str:
        return str(self.item["kind"])

    @property
    def key(self) -> str:
        return str(self.item["key"])

    @property
    def pipeline(self) -> str:
        return str(self.item["pipeline"])

    @property
    def details(self) -> Mapping[str, Any]:
        details = self.item.get("details")
        return details if isinstance(details, Mapping) else {}

    @property
    def is_open(self) -> bool:
        return self.item["status"] == ReviewStatus.OPEN

    @property
    def grouped(self) -> bool:
        return self.kind == UNRESOLVED_OWNER

    @property
    def email(self) -> str | None:
        email = self.details.get("email")
        return email if isinstance(email, str) and email else None

    @property
    def role_label(self) -> str:
        role = str(self.details.get("role") or "")
        return ROLE_LABELS.get(role, role.replace("_", " "))

    @property
    def linkable(self) -> bool:
        return self.kind in LINKABLE_KINDS and self.is_open and bool(self.registrations)

    @property
    def partners(self) -> list[str]:
        named = [deal.partner for deal in (*self.deals, *self.registrations) if deal.partner]
        listed = self.details.get("partners")
        if isinstance(listed, Mapping):
            named += [str(name) for name in listed.values()]
        return sorted(set(named), key=str.casefold)

    def words(self) -> str:
        """Everything the text search looks in, folded."""
        parts = [self.key, str(self.item.get("summary") or ""), self.email or ""]
        for deal in (*self.deals, *self.registrations, *self.targets):
            parts += [deal.key, deal.name or "", deal.crm_name or "", deal.account or "",
                      deal.partner or "", *(email for _label, email in deal.people)]
        return " ".join(parts).casefold()


@dataclass
class QueueView:
    entries: list[Entry]
    counts: list[tuple[str, int]]  # per kind, items (not entries), after the other filters
    total: int  # items after every filter
    partners: list[str]  # every partner the unfiltered items name (the filter's choices)


def deals_wanted(items: Iterable[Mapping[str, Any]]) -> tuple[set[str], set[str]]:
    """The deal keys and opportunity ids the items name (what to read to name them)."""
    deals: set[str] = set()
    crm_ids: set[str] = set()
    for item in items:
        deals.add(str(item["deal"]))
        details = item.get("details") or {}
        deals.update(f"prm:{prm_id}" for prm_id in registrations_of(item))
        crm_ids.update(str(candidate[0]) for candidate in item.get("candidates") or ())
        for name in ("crm_id", "former_crm_id"):
            if isinstance(details.get(name), str):
                crm_ids.add(details[name])
    return deals, crm_ids


class Namer:
    """Deals named from one pipeline's records (just their ids without mappings)."""

    def __init__(self, records: DealRecords, mappings: MappingSet | None) -> None:
        self.records, self.mappings = records, mappings
        self._owners = OwnerDirectory()

    def _values(self, mapping: SystemMapping | None,
                record: MirrorRecord | None) -> Mapping[str, Any]:
        if mapping is None or record is None:
            return {}
        return to_canonical(mapping, record.fields, self._owners).values

    def deal(self, key: str) -> Deal:
        prm_id = key.removeprefix("prm:") if key.startswith("prm:") else None
        crm_id = key.removeprefix("crm:") if key.startswith("crm:") else None
        if prm_id is None and crm_id is None:
            return Deal(key)
        if prm_id is not None:
            crm_id = self.records.links.get(prm_id)
        return self._named(key, prm_id, crm_id)

    def opportunity(self, crm_id: str) -> Deal:
        return self._named(f"crm:{crm_id}", None, crm_id)

    def _named(self, key: str, prm_id: str | None, crm_id: str | None) -> Deal:
        mappings = self.mappings
        prm = self._values(mappings.prm if mappings else None,
                           self.records.prm.get(prm_id) if prm_id else None)
        crm = self._values(mappings.crm if mappings else None,
                           self.records.crm.get(crm_id) if crm_id else None)
        agreed = self.records.agreed.get(key, {})

        def text(name: str, *sources: Mapping[str, Any]) -> str | None:
            for source in sources:
                value = source.get(name)
                if isinstance(value, str) and value.strip():
                    return value.strip()
            return None

        people = tuple((label, email) for name, label in PEOPLE
                       if (email := text(name, agreed, prm, crm)) is not None)
        name = text("deal_name", prm, crm)
        crm_name = text("deal_name", crm)
        return Deal(key, prm_id, crm_id, name, text("account_name", prm, crm, agreed),
                    text("partner_account", prm, agreed, crm), people,
                    crm_name if crm_name != name else None)


def entries_of(items: Sequence[Mapping[str, Any]], namers: Mapping[str, Namer]) -> list[Entry]:
    """The items grouped (``group_reviews``) and named by their pipeline's namer."""
    result: list[Entry] = []
    for group in group_reviews(items):
        result.append(_entry(group, namers[str(group.first["pipeline"])]))
    return result


def _entry(group: ReviewEntry, namer: Namer) -> Entry:
    item = group.first
    if group.grouped:
        return Entry(item, list(group.keys), [namer.deal(deal) for deal in group.deals])
    details = item.get("details") or {}
    registrations = [namer.deal(f"prm:{prm_id}") for prm_id in registrations_of(item)]
    found = details.get("evidence")
    evidence: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    candidates = [(namer.opportunity(str(crm_id)), float(score),
                   str(evidence.get(str(crm_id), "")))
                  for crm_id, score in item.get("candidates") or ()]
    deal = str(item["deal"])
    deals = [namer.deal(deal)] if deal.startswith(("prm:", "crm:")) else []
    deals += [r for r in registrations if r.key not in {d.key for d in deals}]
    # What a link may offer: the candidates, then the opportunities the registrations
    # hold now (linking one registration to another's takes it from that one).
    targets: list[Deal] = [candidate for candidate, _score, _why in candidates]
    for registration in registrations:
        if registration.crm_id and registration.crm_id not in {t.crm_id for t in targets}:
            targets.append(namer.opportunity(registration.crm_id))
    return Entry(item, [str(item["key"])], deals, candidates, targets, registrations)


def queue_view(entries: Sequence[Entry], filters: Filters) -> QueueView:
    """The entries the filters keep; counts per kind under every filter but the kind."""
    partners = sorted({p for entry in entries for p in entry.partners}, key=str.casefold)
    wanted_partner = filters.partner.casefold()
    words = filters.q.casefold().split()
    kept: list[Entry] = []
    for entry in entries:
        if wanted_partner and wanted_partner not in {p.casefold() for p in entry.partners}:
            continue
        if words:
            text = entry.words()
            if not all(word in text for word in words):
                continue
        kept.append(entry)
    counts = Counter[str]()
    for entry in kept:
        counts[entry.kind] += len(entry.keys)
    shown = [entry for entry in kept if not filters.kind or entry.kind == filters.kind]
    return QueueView(shown, sorted(counts.items()), sum(len(e.keys) for e in shown), partners)


__all__ = ["Deal", "Entry", "FilterError", "Filters", "Namer", "QueueView", "deals_wanted",
           "entries_of", "queue_view"]
