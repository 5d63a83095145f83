"""The partner accounts' half of a cycle's reads: what changed among the PRM's partner
companies since their checkpoint, mapped for the store (``store.partners``).

Partner accounts are pulled like deals: incrementally by the account's modification
stamp, through the connector's scoped pull (Type = Partner, type = PARTNER), deletions
included, and their cursor is stored in the cycle's transaction after their rows. A pull
without a cursor (the first, or a full reconcile) returns every partner, and the store
then drops the partners it did not return (deleted, or no longer partners). A field gone
from the account object (schema drift) is left out of the pull and keeps its stored
value. A failure that concerns the partner object alone (a field or permission missing,
retries exhausted) does not stop the cycle: it is recorded as a read failure, nothing of
the partners moves, and the next cycle reads from the same cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import structlog

from connectors.base import Connector, Cursor, ObjectSchema
from connectors.errors import PermissionDenied, RetriesExhausted, SchemaError
from handoff_sync.mapping.system.convert import PartnerRules, SystemMapping
from handoff_sync.mapping.system.partners import is_partner, to_partner
from handoff_sync.model import OwnerDirectory, PartnerAccount, Role
from handoff_sync.store.types import FailureKind, PartnerChanges, PartnerRecord, RecordFailure
from handoff_sync.sync.drift import drifted_fields
from handoff_sync.sync.failures import failure_message
from handoff_sync.sync.pull import PullStopped

log = structlog.get_logger("handoff_sync.sync")

# Failures of the partner object alone: the cycle goes on without its partners.
PARTNER_READ_FAILURES = (SchemaError, PermissionDenied, RetriesExhausted)


@dataclass
class PartnerPull:
    """What one cycle's partner pull returned, ready for ``CycleOutcome``."""

    changes: PartnerChanges | None = None  # None: nothing to store (the pull failed)
    checkpoints: dict[tuple[str, str], Cursor] = field(default_factory=dict)
    read: int = 0  # accounts (and deletions) the system returned
    failure: RecordFailure | None = None
    schema: bool = False  # the failure was a field or object the system does not have

    @property
    def failures(self) -> tuple[RecordFailure, ...]:
        return (self.failure,) if self.failure is not None else ()

    def cleared(self, mapping: SystemMapping) -> frozenset[tuple[Role, str]]:
        """The read failure of an earlier cycle that this one's pull cleared, if any."""
        rules = mapping.partners
        if rules is None or self.failure is not None or self.changes is None:
            return frozenset()
        return frozenset({(Role.PRM, failure_id(rules))})


def describe_partners(connector: Connector, mapping: SystemMapping) -> ObjectSchema | None:
    """The partner account object as the system describes it, for the drift check; None
    when the mapping reads no partners, or the object cannot be described (the partner
    pull then reports why)."""
    if mapping.partners is None:
        return None
    try:
        return connector.describe(mapping.partners.object)
    except PARTNER_READ_FAILURES as exc:
        log.warning("partners_not_described", object=mapping.partners.object,
                    message=failure_message(exc))
        return None


def cycle_partners(connector: Connector, mapping: SystemMapping,
                   checkpoints: Mapping[tuple[str, str], Cursor], *, full: bool,
                   owners: OwnerDirectory, drift: Mapping[str, str],
                   redescribe: Callable[[], None],
                   stored: Callable[[], Mapping[str, PartnerAccount]],
                   should_stop: Callable[[], bool],
                   heartbeat: Callable[[], None]) -> PartnerPull:
    """One cycle's partner pull on the PRM side (``mapping``): from the partners'
    checkpoint, or all of them on a full cycle. A field gone since the last describe is
    found (``redescribe`` updates ``drift``) and the pull made again without it. A PRM file
    without partners stores none: on a full cycle the stored ones go."""
    rules = mapping.partners
    if rules is None:
        return PartnerPull(PartnerChanges(replace=True) if full else None)
    since = None if full else checkpoints.get((mapping.system.value, rules.object))

    def pull() -> PartnerPull:
        return pull_partners(connector, mapping, since=since, owners=owners, drift=drift,
                             stored=stored, should_stop=should_stop, heartbeat=heartbeat)

    result = pull()
    if result.schema:
        connector.start_cycle()
        redescribe()
        result = pull()
    return result


def failure_id(rules: PartnerRules) -> str:
    """The id a partner pull's read failure is kept under (one per partner object)."""
    return f"partners:{rules.object}"


def pull_partners(connector: Connector, mapping: SystemMapping, *, since: Cursor | None,
                  owners: OwnerDirectory, drift: Mapping[str, str],
                  stored: Callable[[], Mapping[str, PartnerAccount]],
                  should_stop: Callable[[], bool],
                  heartbeat: Callable[[], None]) -> PartnerPull:
    """Pull the partner accounts changed since ``since`` (all of them when None) and map
    them. ``stored`` gives the partners as stored, asked for only when a partner field
    drifted (its stored value is kept). Raises the connector's errors but those of
    ``PARTNER_READ_FAILURES``, which come back as ``failure``."""
    rules = mapping.partners
    assert rules is not None
    system = mapping.system.value
    skipped = drifted_fields(dict(drift), system, rules.object)
    fields = sorted(rules.system_fields() - skipped)
    upserts: dict[str, PartnerRecord] = {}
    deleted: set[str] = set()
    out = PartnerPull()
    try:
        for page in connector.pull(rules.object, fields, since, scope=dict(rules.scope)):
            for change in page.changes:
                out.read += 1
                if change.deleted or not is_partner(rules, change.fields):
                    deleted.add(change.id)
                    upserts.pop(change.id, None)
                    continue
                account, issues = to_partner(rules, change.id, change.fields, owners)
                upserts[change.id] = PartnerRecord(account, change.modified_at,
                                                   tuple(map(str, issues)))
                deleted.discard(change.id)
            if page.cursor is not None:
                out.checkpoints[(system, rules.object)] = page.cursor
            heartbeat()
            if should_stop():
                raise PullStopped
    except PARTNER_READ_FAILURES as exc:
        log.warning("partners_not_read", object=rules.object, error=type(exc).__name__,
                    message=failure_message(exc))
        out.failure = RecordFailure(
            FailureKind.READ, Role.PRM, system, rules.object, failure_id(rules),
            exc.code or type(exc).__name__,
            f"the partner accounts ({rules.object}) were not read: {failure_message(exc)}; "
            "they are read again next cycle", retriable=False)
        out.checkpoints.clear()
        out.read = 0
        out.schema = isinstance(exc, SchemaError)
        return out
    kept = {name for name, rule in rules.fields.items() if rule.system_field in skipped}
    owner_kept = rules.owner is not None and rules.owner.system_field in skipped
    if (kept or owner_kept) and upserts:
        upserts = _keep_stored(upserts, kept, owner_kept, stored())
    out.changes = PartnerChanges(MappingProxyType(upserts), frozenset(deleted),
                                 replace=since is None)
    unreadable = sum(bool(record.issues) for record in upserts.values())
    log.info("partners_pulled", object=rules.object, read=out.read, stored=len(upserts),
             deleted=len(deleted), full=since is None, unreadable=unreadable)
    for record in list(upserts.values())[:5]:
        if record.issues:
            log.warning("partner_values_unreadable", partner=record.account.id,
                        issues=list(record.issues))
    return out


def _keep_stored(upserts: Mapping[str, PartnerRecord], names: set[str], owner: bool,
                 stored: Mapping[str, PartnerAccount]) -> dict[str, PartnerRecord]:
    """The records with the drifted fields' values (``names``, and the owner's email when
    ``owner``) taken from the stored partners."""
    out: dict[str, PartnerRecord] = {}
    for account_id, record in upserts.items():
        before = stored.get(account_id)
        values = dict(record.account.values)
        for name in names:
            values[name] = before.values.get(name) if before is not None else None
        owner_email = record.account.owner_email
        if owner:
            owner_email = before.owner_email if before is not None else None
        account = PartnerAccount(record.account.id, record.account.name, owner_email,
                                 MappingProxyType(values))
        out[account_id] = PartnerRecord(account, record.modified_at, record.issues)
    return out
