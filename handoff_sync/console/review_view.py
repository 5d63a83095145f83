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

from handoff_sync.console.record_links import SideLinker
from handoff_sync.errors import UserError
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.mapping.system.convert import SystemMapping, to_canonical
from handoff_sync.model import OwnerDirectory, Role
from handoff_sync.store.reviews import LINKABLE, ReviewStatus, registrations_of
from handoff_sync.store.types import DealRecords, MirrorRecord
from handoff_sync.sync.review_groups import UNRESOLVED_OWNER, ReviewEntry, group_reviews
from handoff_sync.sync.review_names import deal_names

STATUSES = ("open", "dismissed", "resolved", "all")
PAGE_SIZE = 50  # entries a page
GROUP_NAMED = 8  # deals a page names of one person's group (it counts them all)
LINKABLE_KINDS = frozenset(kind.value for kind in LINKABLE)
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
    page: int = 1  # of the entries, PAGE_SIZE a page

    @classmethod
    def parse(cls, values: Mapping[str, str], pipelines: Sequence[str]) -> Filters:
        """The filters from a query string; FilterError naming a field it cannot use."""
        def text(name: str) -> str:
            return " ".join(str(values.get(name, "") or "").split())[:200]

        page = text("page") or "1"
        if not page.isdigit() or int(page) < 1:
            raise FilterError("page", f"no page {page!r}: pages are numbered from 1")
        filters = cls(pipeline=text("pipeline"), kind=text("kind"),
                      status=text("status") or "open", partner=text("partner"), q=text("q"),
                      page=min(int(page), 1_000_000))
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

    @property
    def named(self) -> bool:
        """Whether a filter looks at names (the names each item keeps, or, for items
        recorded before names were kept, their records)."""
        return bool(self.partner or self.q)

    def query(self, **changed: str | int) -> dict[str, str]:
        """The filters as query parameters (blank ones left out), some changed; the
        page only when asked for (another filter starts at the first page)."""
        values = {"pipeline": self.pipeline, "kind": self.kind, "status": self.status,
                  "partner": self.partner, "q": self.q, **changed}
        if values.get("page") == 1:
            del values["page"]
        return {name: str(value) for name, value in values.items() if value}


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
    prm_url: str | None = None  # the registration's page in the PRM
    crm_url: str | None = None  # the opportunity's page in the CRM

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
    size: int = 0  # a group's items, all of them (its deals named are the first few)

    @property
    def count(self) -> int:
        return max(self.size, len(self.keys))

    @property
    def unnamed(self) -> int:
        """A group's deals not named on the page."""
        return self.count - len(self.deals) if self.grouped else 0

    @property
    def group(self) -> str:
        """A group's role and email as a form sends them (``Store.owner_group_keys``)."""
        return f"{self.details.get('role') or ''}\n{(self.email or '').casefold()}"

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
    entries: list[Entry]  # the page's
    counts: list[tuple[str, int]]  # per kind, items (not entries), after the other filters
    total: int  # items after every filter
    partners: list[str]  # partners to offer the filter
    page: int = 1
    entry_total: int = 0  # entries after every filter, on every page

    @property
    def pages(self) -> int:
        return max(1, -(-self.entry_total // PAGE_SIZE))

    @property
    def first(self) -> int:
        """The number of the page's first entry (from 1)."""
        return (self.page - 1) * PAGE_SIZE + 1


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
    """Deals named from one pipeline's records (just their ids without mappings), their
    records linked by ``link`` (none without it)."""

    def __init__(self, records: DealRecords, mappings: MappingSet | None,
                 link: SideLinker | None = None) -> None:
        self.records, self.mappings, self.link = records, mappings, link
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
        names = deal_names(prm, crm, self.records.agreed.get(key, {}))
        link = self.link
        return Deal(key, prm_id, crm_id, names.name, names.account, names.partner,
                    names.people, names.crm_name,
                    prm_url=link(Role.PRM, prm_id) if link and prm_id else None,
                    crm_url=link(Role.CRM, crm_id) if link and crm_id else None)


def entries_of(items: Sequence[Mapping[str, Any]], namers: Mapping[str, Namer],
               per_group: int | None = None) -> list[Entry]:
    """The items grouped (``group_reviews``) and named by their pipeline's namer (of a
    group the first ``per_group`` deals, or all)."""
    return [entry_of(group, namers[str(group.first["pipeline"])], per_group=per_group)
            for group in group_reviews(items)]


def entry_of(group: ReviewEntry, namer: Namer, size: int = 0,
             per_group: int | None = None) -> Entry:
    """One entry named; ``size``: a group's items when ``group`` holds only some."""
    item = group.first
    if group.grouped:
        return Entry(item, list(group.keys),
                     [namer.deal(deal) for deal in group.deals[:per_group]], size=size)
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
    total = sum(len(e.keys) for e in shown)
    return QueueView(shown, sorted(counts.items()), total, partners, entry_total=len(shown))


def paged(view: QueueView, page: int) -> QueueView:
    """The view with just one page of its entries (the last one past the end)."""
    page = min(page, view.pages)
    start = (page - 1) * PAGE_SIZE
    return QueueView(view.entries[start:start + PAGE_SIZE], view.counts, view.total,
                     view.partners, page, view.entry_total)


__all__ = ["GROUP_NAMED", "PAGE_SIZE", "Deal", "Entry", "FilterError", "Filters", "Namer",
           "QueueView", "deals_wanted", "entries_of", "entry_of", "paged", "queue_view"]
