"""CRM claims in the store (``store.claims``), on SQLite and PostgreSQL: which pipeline
writes outputs and tasks to which CRM object of which org, kept across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handoff_sync.store import Store

NOW = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ORG = "salesforce https://acme.my.salesforce.com"


@pytest.fixture
def migrated(store: Store) -> Store:
    store.migrate()
    return store


def test_claims_on_one_object_of_one_org_see_each_other_in_order(migrated: Store) -> None:
    first, others = migrated.claim_crm_object("partners", ORG, "Opportunity", {}, NOW, DAY)
    assert others == [] and first.claimed_at == NOW
    later = NOW + timedelta(minutes=5)
    second, others = migrated.claim_crm_object("resellers", ORG, "opportunity",
                                               {"Type": "New Business"}, later, DAY)
    assert second.object == "opportunity"  # objects compare without case
    assert [(c.pipeline, c.object, c.claimed_at) for c in others] == [
        ("partners", "opportunity", NOW)]
    # Renewing keeps the first claim's time: the older claim stays first.
    renewed, others = migrated.claim_crm_object("partners", ORG, "Opportunity", {},
                                                later + timedelta(hours=1), DAY)
    assert renewed.claimed_at == NOW
    assert [(c.pipeline, dict(c.scope), c.claimed_at) for c in others] == [
        ("resellers", {"Type": "New Business"}, later)]
    # Another org or object is another claim.
    assert migrated.claim_crm_object("direct", "hubspot portal 7", "deals", {}, later,
                                     DAY)[1] == []


def test_a_claim_survives_a_restart_and_lapses_unrenewed_or_released(
        migrated: Store, store_url: str) -> None:
    migrated.claim_crm_object("partners", ORG, "Opportunity", {}, NOW, DAY)
    with Store.connect(store_url) as again:  # a restart, or another replica
        _, others = again.claim_crm_object("resellers", ORG, "Opportunity", {},
                                           NOW + timedelta(hours=23), DAY)
        assert [c.pipeline for c in others] == ["partners"]
        _, others = again.claim_crm_object("resellers", ORG, "Opportunity", {},
                                           NOW + DAY, DAY)
        assert others == []  # not renewed for a day: lapsed (and deleted)
    # Coming back after it lapsed starts a new claim: it queues behind the live one.
    back, others = migrated.claim_crm_object("partners", ORG, "Opportunity", {},
                                             NOW + DAY + timedelta(minutes=1), DAY)
    assert back.claimed_at == NOW + DAY + timedelta(minutes=1)
    assert [c.pipeline for c in others] == ["resellers"]
    migrated.release_crm_object("resellers")
    assert migrated.claim_crm_object("partners", ORG, "Opportunity", {},
                                     NOW + DAY + timedelta(minutes=2), DAY)[1] == []
