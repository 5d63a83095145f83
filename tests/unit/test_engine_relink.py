"""A registration re-linked by hand to another opportunity is merged as a new pair.

The base snapshot of the old pair must not be used: against it, every difference of the
new opportunity would read as an edit made in the CRM and be copied over the partner's
registration.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import MappingProxyType

from handoff_sync.engine.plan import plan
from handoff_sync.engine.types import Link, LinkMethod
from handoff_sync.model import Role
from handoff_sync.testing.builders import apply_plan, seeded_inputs

NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)


def test_a_manual_relink_copies_the_registration_not_the_new_opportunity() -> None:
    seeded = seeded_inputs(deals=60, now=NOW)
    first = seeded.engine_input(NOW)
    settled = apply_plan(first, plan(first))
    links = dict(settled.state.links)
    prm_id, old = sorted(links.items())[0]
    partner_rep = next(r for r in settled.prm if r.record_id == prm_id).values[
        "partner_rep_email"]
    assert partner_rep
    claimed = {link.crm_id for link in links.values()}
    direct = min(r.record_id for r in settled.crm if r.record_id not in claimed
                 and not r.values.get("partner_rep_email"))
    links[prm_id] = Link(prm_id, direct, LinkMethod.MANUAL, 1.0)
    relinked = dataclasses.replace(settled, state=dataclasses.replace(
        settled.state, links=MappingProxyType(links)))

    result = plan(relinked)
    prm_writes = [w for w in result.writes if w.role is Role.PRM and w.record_id == prm_id]
    crm_writes = [w for w in result.writes if w.role is Role.CRM and w.record_id == direct]
    # The partner's facts go to the opportunity; the registration keeps its rep.
    assert crm_writes and crm_writes[0].values.get("partner_rep_email") == partner_rep
    assert crm_writes[0].values.get("prm_id") == prm_id
    assert all("partner_rep_email" not in w.values for w in prm_writes)
    assert old.crm_id != direct
