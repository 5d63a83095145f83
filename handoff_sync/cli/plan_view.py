"""`handoff-sync plan` as people read it: a summary first, then one block per deal (pure).

Live (`--config`) and offline (`--prm --crm`) plans print through this one renderer:

1. the summary: deals planned, records to update per system, tasks by action, links,
   review items, conflicts, SLA events, records skipped by scope, API calls (live);
2. tasks by person: each assignee, with how many tasks would be created, closed ...;
3. the deals, by name, each headed by its name and record ids, its account, partner and
   owner, its gate verdict and SLA clocks, then its field changes (``field: old -> new``,
   one line each: a line break shows as ``\\n``, a long value is cut with ``...`` and its
   length said), its tasks and its review items; ``limit`` deals at most;
4. the records the mappings' scope left out, with the reason and the scope's file:line;
5. review items that belong to no deal shown above.

An opportunity to create reads "create opportunity for <registration> owned by <email>:
<why that owner>" in its deal's block.

Every text from a system passes ``for_terminal``; record ids, names and values are the
exports' or the systems' own, so nothing here trusts them.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.registry import SYSTEMS
from handoff_sync.engine.readiness_tasks import PARTNER_DEAL
from handoff_sync.engine.types import LinkChangeKind, Plan, TaskAction, TaskActionKind
from handoff_sync.errors import CommandError
from handoff_sync.mapping.system.scope import SkippedRecord
from handoff_sync.model import Role, TaskAnchor
from handoff_sync.safety.sanitise import for_terminal
from handoff_sync.sync.plan_context import DealCard, Person, PlanContext, RecordRef

DEFAULT_LIMIT = 20  # deals shown unless --limit says otherwise
VALUE_WIDTH = 60  # characters of a value shown before it is cut
SUBJECT_WIDTH = 90  # characters of a task subject
CLOSE_ENOUGH = 0.6  # how alike a name must be to a --deal that matched nothing to be named
MISSING_SHOWN = 3  # missing facts named on a deal's gate line
# What people call each task action (the engine's words are the ledger's).
ACTION_WORDS = {TaskActionKind.OPEN: "create", TaskActionKind.UPDATE: "update",
                TaskActionKind.REASSIGN: "reassign", TaskActionKind.CLOSE: "close",
                TaskActionKind.REOPEN: "reopen"}
_ACTION_ORDER = list(ACTION_WORDS.values())


@dataclass(frozen=True)
class PlanView:
    """One pipeline's plan and what it takes to read it."""

    title: str  # the first line: whose plan, at what instant
    plan: Plan
    changes: Sequence[Mapping[str, Any]]  # field writes in system terms (sync.write)
    context: PlanContext
    api_calls: str | None = None  # live: what writing would cost and planning read


@dataclass(frozen=True)
class Shown:
    """What of the plan to print: one deal (``deal``: ids or a name) or the first ``limit``
    deals (0: all)."""

    deal: str | None = None
    limit: int = DEFAULT_LIMIT
    matched: frozenset[str] = field(default_factory=frozenset)  # deal keys of ``deal``


class NoSuchDeal(CommandError):
    """``--deal`` matched no deal; ``close`` holds the names that come nearest. The command
    line must say more: exit 2."""

    hint = "give a PRM or CRM record id or the deal's name (a part of it matches too)"
    exit_code = 2

    def __init__(self, query: str, close: Sequence[str]) -> None:
        self.query = query
        self.close = tuple(close)
        said = f"no deal has the id or name {for_terminal(query)!r}"
        super().__init__(said + "; close names: " + "; ".join(for_terminal(n) for n in close)
                         if close else said, hint=None if close else self.hint)


def matching_deals(context: PlanContext, query: str) -> frozenset[str]:
    """Deal keys whose PRM or CRM record id is ``query``, else whose name is ``query``
    (case-insensitively), else whose name contains it; skipped records count too."""
    wanted = query.strip()
    folded = wanted.casefold()
    ids = {k.deal for k in context.known if k.record.record_id == wanted}
    ids |= {key for key, card in context.cards.items()
            if wanted in {r.record_id for r in (card.prm, card.crm) if r is not None}}
    ids |= {_skipped_key(s) for s in context.skipped if s.record_id == wanted}
    if ids:
        return frozenset(ids)
    names = _names(context)
    exact = {key for key, name in names if name.casefold() == folded}
    if exact:
        return frozenset(exact)
    return frozenset(key for key, name in names if folded and folded in name.casefold())


def close_names(contexts: Sequence[PlanContext], query: str, n: int = 5) -> list[str]:
    """The deal names nearest ``query`` as a whole or word for word (a typo in one word),
    for the error when nothing matches."""
    wanted = query.casefold().split()
    scores: dict[str, float] = {}
    for name in {name for context in contexts for _, name in _names(context)}:
        words = name.casefold().split()
        whole = difflib.SequenceMatcher(None, " ".join(wanted), " ".join(words)).ratio()
        word = max((difflib.SequenceMatcher(None, a, b).ratio() for a in wanted for b in words),
                   default=0.0)
        if (score := max(whole, 0.9 * word)) >= CLOSE_ENOUGH:
            scores[name] = score
    return sorted(scores, key=lambda name: (-scores[name], name))[:n]


def render(view: PlanView, shown: Shown | None = None) -> str:
    """The text of one pipeline's plan (see the module docstring for its parts)."""
    shown = shown or Shown()
    plan, context = view.plan, view.context
    by_deal = _by_deal(view)
    lines = [view.title, "", *_summary(view, by_deal)]
    if shown.deal is None:
        lines += _people(plan, context)
        keys = _ordered([k for k, items in by_deal.items() if items.work], context)
        heading = "Deals" if keys else "Deals: nothing to do for any deal"
        if shown.limit and len(keys) > shown.limit:
            heading += f" (the first {shown.limit} of {len(keys)}, by name)"
        lines += ["", heading]
    else:
        keys = _ordered(sorted(k for k in shown.matched if not k.startswith("skipped:")),
                        context)
        if keys:
            lines += ["", f"Deals matching {for_terminal(shown.deal)!r}"]
    limit = shown.limit if shown.deal is None and shown.limit else len(keys)
    for key in keys[:limit]:
        lines += _deal(key, context.cards.get(key), by_deal.get(key), context)
    if len(keys) > limit:
        lines += ["", f"... and {len(keys) - limit} more deals (--limit 0 for all, --json for "
                  "everything)"]
    skipped = list(context.skipped)
    if shown.deal is not None:
        skipped = [s for s in skipped if _skipped_key(s) in shown.matched]
    if skipped:
        lines += ["", f"Skipped by scope ({len(skipped)}): not planned, the pipeline does not "
                  "sync them"]
        cap = shown.limit if shown.deal is None and shown.limit else len(skipped)
        lines += [line for record in skipped[:cap] for line in _skipped(record)]
        if len(skipped) > cap:
            lines.append(f"  ... and {len(skipped) - cap} more (--json lists them all)")
    if shown.deal is None:
        lines += _other_reviews(plan, set(keys[:limit]))
    lines += [f"note: {note}" for note in context.notes]
    return "\n".join(for_terminal(line) for line in lines).rstrip() + "\n"


def show(views: Sequence[PlanView], deal: str | None, limit: int) -> str:
    """The text of every pipeline's plan; with ``deal``, only the plans that have it
    (NoSuchDeal, with the names that come close, when none has)."""
    if deal is None:
        return "\n\n".join(render(view, Shown(None, limit)) for view in views)
    matched = [matching_deals(view.context, deal) for view in views]
    if views and not any(matched):
        raise NoSuchDeal(deal, close_names([view.context for view in views], deal))
    return "\n\n".join(render(view, Shown(deal, limit, keys))
                       for view, keys in zip(views, matched, strict=True) if keys)


# ---------------------------------------------------------------- the summary


@dataclass
class _DealItems:
    changes: dict[tuple[str, str, str], list[Mapping[str, Any]]] = field(default_factory=dict)
    tasks: list[TaskAction] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    creations: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)
    events: bool = False
    verdict: bool = False

    @property
    def work(self) -> bool:
        """Something to write or record; a standing review item alone is not."""
        return bool(self.changes or self.tasks or self.links or self.creations
                    or self.stages or self.conflicts or self.events or self.verdict
                    or self.decisions)


def _by_deal(view: PlanView) -> dict[str, _DealItems]:
    plan = view.plan
    items: dict[str, _DealItems] = {}

    def of(key: str | None) -> _DealItems:
        return items.setdefault(key or "(no deal)", _DealItems())

    for change in view.changes:
        record = (str(change["system"]), str(change["object"]), str(change["record"]))
        of(change.get("deal")).changes.setdefault(record, []).append(change)
    for action in plan.tasks:
        of(action.deal).tasks.append(action)
    for link in plan.links:
        how = link.reason or link.link.method.value
        word = "new" if link.kind is LinkChangeKind.CREATE else "removed"
        of(f"prm:{link.link.prm_id}").links.append(f"link {word} to {link.link.crm_id} ({how})")
    for move in plan.stage_moves:  # the stage autopilot: what it moved, and why
        of(move.deal).stages.append(
            f"stage {move.kind.replace('_', ' ')}: {move.from_stage or '(none)'} -> "
            f"{move.stage}, entered {_value(move.entered_at)} ({'; '.join(move.reasons)})")
    for creation in plan.creations:
        of(creation.deal).creations.append(
            f"create opportunity for {creation.prm_id} owned by {creation.owner_email}: "
            f"{creation.reason}")
    for decision in plan.decisions:
        by = decision.by or "nobody known"
        if not decision.by_system:
            by += f" (the {'sender' if decision.decision.value == 'resubmitted' else 'receiver'}"
            by += "; the system does not say)"
        reason = f": {decision.reason}" if decision.reason else ""
        of(decision.deal).decisions.append(
            f"handoff {decision.decision.value} by {by} at {_instant(decision.at)}{reason}")
    for conflict in plan.conflicts:
        winner = conflict.winner.value if conflict.winner else "nobody (read only)"
        of(conflict.deal).conflicts.append(
            f"conflict {conflict.field}: prm {_value(conflict.prm)}, crm {_value(conflict.crm)}"
            f"; {conflict.policy.value} keeps {winner}'s {_value(conflict.kept)}")
    for event in plan.sla_events:
        of(event.deal).events = True
    for verdict in plan.verdicts:
        of(verdict.deal).verdict = True
    for review in plan.reviews:
        if review.deal.startswith(("prm:", "crm:")):
            of(review.deal).reviews.append(f"review {review.kind.value}: {review.summary}")
    return items


def _summary(view: PlanView, by_deal: Mapping[str, _DealItems]) -> list[str]:
    plan, context = view.plan, view.context
    records = Counter(system for items in by_deal.values() for system, _, _ in items.changes)
    links = Counter(c.link.method.value for c in plan.links if c.kind is LinkChangeKind.CREATE)
    removed = sum(c.kind is LinkChangeKind.REMOVE for c in plan.links)
    reviews = Counter(r.kind.value for r in plan.reviews)
    events = Counter(e.kind.value for e in plan.sla_events)
    decisions = Counter(d.decision.value for d in plan.decisions)
    stage_moves = Counter(m.kind.replace("_", " ") for m in plan.stage_moves)
    working = sum(items.work for key, items in by_deal.items() if key != "(no deal)")
    rows = [("deals planned", f"{plan.deals} ({working} with something to do)"),
            ("records to update", _counts(records) or "none (no field writes)"),
            ("tasks", _task_counts(plan.tasks) or "none"),
            ("links", f"{sum(links.values())} new{_breakdown(links)}, {removed} removed"),
            ("opportunities", f"{len(plan.creations)} to create"),
            ("review items", f"{len(plan.reviews)}{_breakdown(reviews)}"),
            ("stage moves", f"{len(plan.stage_moves)}{_breakdown(stage_moves)}"),
            ("conflicts", str(len(plan.conflicts))),
            ("handoff decisions", f"{len(plan.decisions)}{_breakdown(decisions)}"),
            ("SLA events", f"{len(plan.sla_events)}{_breakdown(events)}")]
    if context.skipped:
        count = len(context.skipped)
        rows.append(("skipped by scope",
                     f"{count} record{'s' if count != 1 else ''} (listed below)"))
    if view.api_calls:
        rows.append(("API calls", view.api_calls))
    width = max(len(label) for label, _ in rows) + 1
    return ["Summary", *(f"  {label + ':':<{width}} {value}" for label, value in rows)]


def _people(plan: Plan, context: PlanContext) -> list[str]:
    if not plan.tasks:
        return []
    by_person: dict[str, list[TaskAction]] = {}
    for action in plan.tasks:
        by_person.setdefault(action.task.assignee_email, []).append(action)
    order = sorted(by_person, key=lambda email: (-len(by_person[email]), email))
    shown = {email: _person(context.people.get(email) or Person(email)) for email in order}
    width = min(max(len(text) for text in shown.values()), 60)
    return ["", "Tasks by person",
            *(f"  {shown[email]:<{width}}  {_task_counts(by_person[email])}" for email in order)]


def _task_counts(actions: Sequence[TaskAction]) -> str:
    counts = Counter(ACTION_WORDS[a.kind] for a in actions)
    return ", ".join(f"{counts[word]} to {word}" for word in _ACTION_ORDER if counts[word])


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{what} {n}" for what, n in sorted(counter.items()))


def _breakdown(counter: Counter[str]) -> str:
    return f" ({', '.join(f'{n} {what}' for what, n in sorted(counter.items()))})" \
        if counter else ""


# ---------------------------------------------------------------- one deal


def _deal(key: str, card: DealCard | None, items: _DealItems | None,
          context: PlanContext) -> list[str]:
    items = items or _DealItems()
    if card is not None:
        refs = [r for r in (card.prm, card.crm) if r is not None]
        name = card.name
    else:  # nothing planned for it (--deal): the records it is known by
        known = [k for k in context.known if k.deal == key]
        refs = [k.record for k in known]
        name = next((k.name for k in known if k.name), None)
    ids = ", ".join(_ref(r) for r in refs) or key
    if key.startswith(PARTNER_DEAL):  # a partner's readiness training tasks
        name = name or "Partner readiness training"
    name = name or "(no name)"
    lines = ["", f"{name}  [{ids}]"]
    if card is not None:
        lines += _facts(card)
    lines += [f"  {text}" for text in (*items.creations, *items.links, *items.stages)]
    lines += [f"  {text}" for text in items.decisions]
    for (system, obj, record_id), changes in sorted(items.changes.items()):
        lines.append(f"  {_ref(RecordRef(system, obj, record_id))}:")
        lines += [f"    {c['field']}: {_value(c['old'])} -> {_value(c['new'])}" for c in changes]
    if items.tasks:
        lines.append("  tasks:")
        for action in items.tasks:
            task = action.task
            person = _person(context.people.get(task.assignee_email)
                             or Person(task.assignee_email))
            why = "" if action.kind is TaskActionKind.OPEN else f" ({action.reason})"
            lines.append(f"    {ACTION_WORDS[action.kind]:<8} "
                         f"{_cut(task.subject, SUBJECT_WIDTH)}{why}")
            # A partner task (side: prm) is written on the registration, in the PRM; a
            # training task on the partner's account.
            where = (", on the partner account" if task.anchor is TaskAnchor.PARTNER
                     else ", on the registration" if task.side is Role.PRM else "")
            lines.append(f"             -> {person}, due {_instant(task.due_at)}, "
                         f"{task.priority.value}{where}")
    lines += [f"  {text}" for text in (*items.conflicts, *items.reviews)]
    if not items.work:
        lines.append("  nothing to write this cycle")
    return lines


def _facts(card: DealCard) -> list[str]:
    lines = []
    about = []
    if card.registered_as:
        about.append(f"registered as '{for_terminal(card.registered_as)}'")
    if card.account:
        about.append(f"account {card.account}")
    if card.partner or card.partner_rep:
        rep = f" (rep {_person(card.partner_rep)})" if card.partner_rep else ""
        about.append(f"partner {card.partner or '(unnamed)'}{rep}")
    if about:
        lines.append("  " + "; ".join(about))
    if card.owner:
        lines.append(f"  owner {_person(card.owner)}")
    verdict = card.verdict
    if verdict is None:
        lines.append("  gate: no verdict yet")
    else:
        where = ", ".join(x for x in (verdict.handoff_type, verdict.stage) if x)
        # A deal that needs no handoff has no score and nothing missing (both written blank).
        score = f", {verdict.completeness_pct}% complete" if verdict.required else ""
        said = f"  gate: {verdict.status.value}{score}" + (
            f" ({where})" if where else "") + (" - new verdict" if card.verdict_changed else "")
        lines.append(said)
        if verdict.missing and verdict.required:
            more = len(verdict.missing) - MISSING_SHOWN
            lines.append("    missing: " + ", ".join(verdict.missing[:MISSING_SHOWN])
                         + (f" (+{more} more)" if more > 0 else ""))
        if verdict.ahead_of_gate:
            lines.append("    moved past failing gates: " + ", ".join(verdict.ahead_of_gate))
    for clock in card.clocks:
        status = clock.status.value.replace("_", " ")
        state = status if clock.stopped_at is None else \
            f"{status}, stopped {_instant(clock.stopped_at)}"
        lines.append(f"  SLA {clock.clock}: due {_instant(clock.due_at)} ({state})")
    return lines


def _skipped(record: SkippedRecord) -> list[str]:
    name = f" '{for_terminal(record.name)}'" if record.name else ""
    lines = [f"  {_ref(RecordRef(record.system, record.object, record.record_id))}{name} "
             f"skipped: {record.reason}"]
    if record.named_by:
        lines.append(f"    (its id is on {_ref(record.named_by)})")
    return lines


def _other_reviews(plan: Plan, shown: set[str]) -> list[str]:
    """Items about no deal (an email two users share) in full; items of deals not shown
    above as one count: `review` groups them per person, --deal shows one deal's."""
    loose = [r for r in plan.reviews if not r.deal.startswith(("prm:", "crm:"))]
    hidden = Counter(r.kind.value for r in plan.reviews
                     if r.deal.startswith(("prm:", "crm:")) and r.deal not in shown)
    lines = []
    if loose:
        lines += ["", f"Review items about no one deal ({len(loose)})"]
        lines += [f"  {r.kind.value}: {r.summary}" for r in loose]
    if hidden:
        lines += ["", f"{sum(hidden.values())} more review items on deals not shown above"
                  f"{_breakdown(hidden)}: --deal ID shows a deal with its items, --json "
                  "lists every item"]
    return lines


# ---------------------------------------------------------------- words


def _ordered(keys: Sequence[str], context: PlanContext) -> list[str]:
    """Deals by name (case-insensitively), nameless ones last, then by key."""
    def sort_key(key: str) -> tuple[bool, str, str]:
        card = context.cards.get(key)
        name = card.name if card and card.name else None
        return (name is None, (name or "").casefold(), key)

    return sorted(keys, key=sort_key)


def _names(context: PlanContext) -> list[tuple[str, str]]:
    """(deal key, name) for every name a deal is known by, skipped records included."""
    names = [(k.deal, k.name) for k in context.known if k.name]
    for key, card in context.cards.items():
        names += [(key, n) for n in (card.name, card.registered_as) if n]
    names += [(_skipped_key(s), s.name) for s in context.skipped if s.name]
    return names


def _skipped_key(record: SkippedRecord) -> str:
    return f"skipped:{record.system}:{record.record_id}"


def _ref(ref: RecordRef) -> str:
    """``hubspot deal 501``, ``salesforce Opportunity 006...``."""
    obj = ref.object
    if obj.islower() and obj.endswith("s"):  # HubSpot object names are plural
        obj = obj[:-3] + "y" if obj.endswith("ies") else obj[:-1]
    row = SYSTEMS.get(ref.system)
    return f"{row.title if row else ref.system} {obj} {ref.record_id}"


def _person(person: Person | None) -> str:
    if person is None:
        return "-"
    if not person.name:
        return person.email + (f" [{person.user_id}]" if person.user_id else "")
    return f"{person.name} <{person.email}>" + (f" [{person.user_id}]" if person.user_id
                                                  else "")


def _value(value: Any) -> str:
    """A value on one line: empty said, line breaks shown as \\n, long values cut."""
    if value is None or value == "" or value == [] or value == ():
        return "(empty)"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        text = "; ".join(map(str, value))
    elif isinstance(value, datetime):
        text = _instant(value)
    else:
        text = str(value)
    shown = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _cut(shown, size=len(text))


def _cut(text: str, width: int = VALUE_WIDTH, *, size: int | None = None) -> str:
    """``text`` on a terminal, cut to ``width`` with its length (``size``: the value's own,
    before line breaks were spelled out) said."""
    text = for_terminal(text)
    if len(text) <= width:
        return text
    return f"{text[:width - 3]}... ({size or len(text):,} chars)"


def when(value: datetime) -> str:
    """An instant as the plan's title says it: 2026-11-18 15:30:00 UTC."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
