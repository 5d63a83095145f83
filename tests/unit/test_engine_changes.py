"""Which pulled records an incremental cycle plans (sync.cycle_parts.engine_changes).

What a user would notice if it were wrong: the cycle after a write burst (the echo, which
reads the daemon's own writes back) planning every deal it wrote again, as long as the
first sync; or, the other way, an edit a person made, or a flag a person overwrote in the
CRM, left unplanned until the nightly reconcile.
"""

from __future__ import annotations

from datetime import UTC, datetime

from handoff_sync.model import OwnerDirectory
from handoff_sync.store.types import MirrorRecord
from handoff_sync.sync.cycle_parts import engine_changes
from handoff_sync.testing.builders import default_mappings

WRITTEN = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
ECHOED = datetime(2026, 12, 2, 15, 1, tzinfo=UTC)
FIELDS = {"hs_object_id": "101", "dealname": "Acme data platform", "amount": "1200",
          "closedate": "2027-01-08T00:00:00.000Z", "customer_domain": "acme.example",
          "hs_lastmodifieddate": "2026-12-02T15:00:00.000Z",
          "handoff_gate_status": "blocked", "handoff_completeness": "60"}


def _record(**changes: object) -> MirrorRecord:
    return MirrorRecord("101", WRITTEN, {**FIELDS, **changes})


def _changed(pulled: MirrorRecord, mirrored: MirrorRecord | None) -> bool:
    mirror = {} if mirrored is None else {"101": mirrored}
    return bool(engine_changes({"101": pulled}, mirror, default_mappings().prm,
                               OwnerDirectory()))


def test_the_read_back_of_our_own_write_plans_nothing() -> None:
    # Only the system's stamp moved (the mirror keeps the stamp of the values we read).
    echo = _record(hs_lastmodifieddate="2026-12-02T15:01:00.000Z")
    assert echo != _record()
    assert not _changed(echo, _record())


def test_a_changed_value_the_engine_reads_is_planned() -> None:
    assert _changed(MirrorRecord("101", ECHOED, {**FIELDS, "amount": "1500"}), _record())


def test_a_flag_a_person_overwrote_is_planned_so_the_engine_writes_it_back() -> None:
    assert _changed(_record(handoff_gate_status="passed"), _record())


def test_new_and_deleted_records_are_planned() -> None:
    assert _changed(_record(), None)
    assert _changed(MirrorRecord("101", ECHOED, FIELDS, deleted=True), _record())


def test_a_record_leaving_the_scope_is_planned() -> None:
    scope = default_mappings().prm.scope
    assert scope, "the default PRM mapping is scoped (the partner pipeline)"
    name = next(iter(scope))
    inside = _record(**{name: scope[name]})
    assert _changed(_record(**{name: "some-other-pipeline"}), inside)
