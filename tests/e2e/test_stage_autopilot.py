"""Issue 16 (3), the stage autopilot end to end: the sandbox through the real clients, both
shipped packs, SQLite and PostgreSQL.

One registration and its opportunity, created blank of any handoff position: the first
cycle sets the type and first stage, with the stage entered when the PRM's own history
says the registration was approved; filling the last stage-1 gate field advances the
stage; a second pair put in stage 4 by a person with the economic buyer blank shows
"Blocked" and "Stage 1 incomplete: ..." rather than "Passed", and stays in stage 4; the
first deal won moves to the customer-success handoff, entered when the CRM's stage
history says it was won.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pytest
from hubspot import HubSpot
from hubspot.crm.deals import SimplePublicObjectInput, SimplePublicObjectInputForCreate
from simple_salesforce import Salesforce

from handoff_sync.config.load import load_config
from handoff_sync.config.settings import Config
from handoff_sync.demo.sandbox_config import write_sandbox_config
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.store.types import RunOutcome
from handoff_sync.sync.cycle import PipelineRunner
from tests.e2e.sync_support import REPO

APPROVED = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # a Tuesday
FIRST = APPROVED + timedelta(hours=2)  # the first cycle
FILLED = APPROVED + timedelta(hours=5)  # the partner names the economic buyer
WON = APPROVED + timedelta(days=2)  # the AE closes the deal
STAGE_ONE = {"budget": "150000", "economic_buyer": "CFO Dana Lee", "need": "Replace ETL",
             "decision_date": "2027-01-10", "decision_process": "Board in Q1",
             "technical_requirements": "SSO", "stakeholder_map": "Champion VP Data"}
SF_STAGE = {"pre_handoff_assessment": "1 Pre-Handoff Assessment",
            "joint_discovery": "2 Joint Discovery",
            "responsibility_transition": "4 Responsibility Transition",
            "kickoff": "6 Customer Success Kickoff"}
SF_TYPE = {"partner_to_direct": "Partner to Direct", "closed_won_to_cs": "Closed Won to CS"}


def instant(value: Any) -> datetime:
    """A Salesforce or HubSpot datetime as an aware UTC instant."""
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))


class Pack(Protocol):
    """Creates and reads one pack's registrations and opportunities in the sandbox."""

    folder: Path

    def pair(self, name: str, facts: dict[str, str], **crm: str) -> tuple[str, str]: ...
    def fill(self, prm_id: str, name: str, value: str) -> None: ...
    def set_crm(self, crm_id: str, stage: str, co_led: int) -> None: ...
    def win(self, crm_id: str) -> None: ...
    def hold_kickoff(self, crm_id: str, at: datetime) -> None: ...
    def position(self, crm_id: str) -> tuple[str | None, str | None, datetime | None]: ...
    def prm_stage(self, prm_id: str) -> str | None: ...
    def verdict(self, crm_id: str) -> tuple[str, list[str]]: ...


class HubSpotPrmSalesforceCrm:
    """The default pack: registrations are HubSpot deals, opportunities Salesforce ones."""

    folder = REPO / "mappings"

    def __init__(self, sf: Salesforce, hs: HubSpot) -> None:
        self.sf, self.hs = sf, hs
        self.owner = sf.query("SELECT Id FROM User WHERE IsActive = true LIMIT 1")[
            "records"][0]["Id"]

    def pair(self, name: str, facts: dict[str, str], **crm: str) -> tuple[str, str]:
        registration = self.hs.crm.deals.basic_api.create(SimplePublicObjectInputForCreate(
            properties={"dealname": name, "pipeline": "9004451", "dealstage": "9004453",
                        "amount": "150000", "partner_rep_email": "pat@bluebird.example",
                        "partner_account_name": "Bluebird", "competitors": "Acme",
                        "partner_prepared_prospect": "true", **facts})).id
        opportunity = self.sf.Opportunity.create({
            "Name": name, "StageName": "Qualification", "CloseDate": "2027-01-15",
            "Amount": 150000, "OwnerId": self.owner, "Partner_Registration_Id__c": registration,
            **{k: v for k, v in crm.items()}})["id"]
        self.hs.crm.deals.basic_api.update(registration, SimplePublicObjectInput(
            properties={"crm_opportunity_id": opportunity}))
        return registration, opportunity

    def fill(self, prm_id: str, name: str, value: str) -> None:
        self.hs.crm.deals.basic_api.update(prm_id, SimplePublicObjectInput(
            properties={name: value}))

    def set_crm(self, crm_id: str, stage: str, co_led: int) -> None:
        self.sf.Opportunity.update(crm_id, {"Handoff_Stage__c": SF_STAGE[stage],
                                            "Co_Led_Meetings__c": co_led})

    def win(self, crm_id: str) -> None:
        self.sf.Opportunity.update(crm_id, {"StageName": "Closed Won",
                                            "CloseDate": WON.date().isoformat()})

    def hold_kickoff(self, crm_id: str, at: datetime) -> None:
        self.sf.Opportunity.update(crm_id, {"Kickoff_At__c": at.isoformat()})

    def position(self, crm_id: str) -> tuple[str | None, str | None, datetime | None]:
        opp = self.sf.Opportunity.get(crm_id)
        types = {v: k for k, v in SF_TYPE.items()}
        stages = {v: k for k, v in SF_STAGE.items()}
        entered = opp["Handoff_Stage_Entered__c"]
        return (types.get(opp["Handoff_Type__c"]), stages.get(opp["Handoff_Stage__c"],
                                                              opp["Handoff_Stage__c"]),
                instant(entered) if entered else None)

    def prm_stage(self, prm_id: str) -> str | None:
        value: str | None = self.hs.crm.deals.basic_api.get_by_id(
            prm_id, properties=["handoff_stage"]).properties["handoff_stage"]
        return value

    def verdict(self, crm_id: str) -> tuple[str, list[str]]:
        opp = self.sf.Opportunity.get(crm_id)
        return opp["Handoff_Gate_Status__c"], (opp["Handoff_Missing_Fields__c"] or
                                               "").splitlines()


class SalesforcePrmHubSpotCrm:
    """The reversed pack: registrations are Salesforce Deal_Registration__c records,
    opportunities HubSpot deals of the Sales Pipeline."""

    folder = REPO / "mappings" / "packs" / "salesforce-prm-hubspot-crm"
    FIELDS: ClassVar[dict[str, str]] = {
        "budget": "Budget__c", "economic_buyer": "Economic_Buyer__c", "need": "Need__c",
        "decision_date": "Decision_Date__c", "decision_process": "Decision_Process__c",
        "technical_requirements": "Technical_Requirements__c",
        "stakeholder_map": "Stakeholder_Map__c"}

    def __init__(self, sf: Salesforce, hs: HubSpot) -> None:
        self.sf, self.hs = sf, hs
        self.owner = hs.crm.owners.owners_api.get_page(limit=1).results[0].id

    def pair(self, name: str, facts: dict[str, str], **crm: str) -> tuple[str, str]:
        registration = self.sf.Deal_Registration__c.create({
            "Deal_Name__c": name, "Registration_Status__c": "Approved",
            "Approved_At__c": APPROVED.isoformat(), "Amount__c": 150000,
            "Expected_Close_Date__c": "2027-01-15", "Partner_Rep_Email__c":
            "pat@bluebird.example", "Competitors__c": "Acme",
            "Partner_Prepared_Prospect__c": True,
            **{self.FIELDS[k]: v for k, v in facts.items()}})["id"]
        deal = self.hs.crm.deals.basic_api.create(SimplePublicObjectInputForCreate(
            properties={"dealname": name, "pipeline": "default",
                        "dealstage": "appointmentscheduled", "amount": "150000",
                        "closedate": "2027-01-15", "hubspot_owner_id": self.owner,
                        "partner_registration_id": registration, **crm})).id
        self.sf.Deal_Registration__c.update(registration, {"CRM_Deal_Id__c": deal})
        return registration, deal

    def fill(self, prm_id: str, name: str, value: str) -> None:
        self.sf.Deal_Registration__c.update(prm_id, {self.FIELDS[name]: value})

    def set_crm(self, crm_id: str, stage: str, co_led: int) -> None:
        self.hs.crm.deals.basic_api.update(crm_id, SimplePublicObjectInput(
            properties={"handoff_stage": stage, "co_led_meetings": str(co_led)}))

    def win(self, crm_id: str) -> None:
        self.hs.crm.deals.basic_api.update(crm_id, SimplePublicObjectInput(
            properties={"dealstage": "closedwon", "closedate": WON.date().isoformat()}))

    def hold_kickoff(self, crm_id: str, at: datetime) -> None:
        self.hs.crm.deals.basic_api.update(crm_id, SimplePublicObjectInput(
            properties={"kickoff_at": at.isoformat().replace("+00:00", "Z")}))

    def position(self, crm_id: str) -> tuple[str | None, str | None, datetime | None]:
        props = self.hs.crm.deals.basic_api.get_by_id(crm_id, properties=[
            "handoff_type", "handoff_stage", "handoff_stage_entered_at"]).properties
        entered = props["handoff_stage_entered_at"]
        return (props["handoff_type"] or None, props["handoff_stage"] or None,
                instant(entered) if entered else None)

    def prm_stage(self, prm_id: str) -> str | None:
        value = self.sf.Deal_Registration__c.get(prm_id)["Handoff_Stage__c"]
        return {v: k for k, v in SF_STAGE.items()}.get(value, value)

    def verdict(self, crm_id: str) -> tuple[str, list[str]]:
        props = self.hs.crm.deals.basic_api.get_by_id(crm_id, properties=[
            "handoff_gate_status", "handoff_missing_fields"]).properties
        return props["handoff_gate_status"], (props["handoff_missing_fields"] or
                                              "").splitlines()


PACKS = {"default": HubSpotPrmSalesforceCrm, "salesforce-prm-hubspot-crm": SalesforcePrmHubSpotCrm}


@pytest.fixture(params=list(PACKS))
def world(request: pytest.FixtureRequest, sandbox: SandboxServer, sf: Salesforce,
          hs: HubSpot, tmp_path: Path, store_url: str) -> Iterator[dict[str, Any]]:
    sandbox.sandbox.clock.freeze(APPROVED - timedelta(days=1))  # the seed's "now"
    sandbox.sandbox.seed(deals=4, partners=2, random_seed=3)
    pack: Pack = PACKS[request.param](sf, hs)
    mappings = tmp_path / "mappings"
    shutil.copytree(pack.folder, mappings, ignore=shutil.ignore_patterns("packs"))
    config_file = tmp_path / "handoff-sync.yaml"
    write_sandbox_config(sandbox.base_url, config_file, pack=request.param,
                         mappings=mappings, database=store_url)
    config = load_config(config_file)
    store = Store.connect(config.database.url)
    store.migrate()
    yield {"config": config, "store": store, "pack": pack, "clock": sandbox.sandbox.clock}
    store.close()


def cycle(config: Config, store: Store, at: datetime) -> None:
    runner = PipelineRunner(config, config.pipelines[0], store, holder="test",
                            clock=lambda: at)
    try:
        report = runner.run_cycle()
    finally:
        runner.close()
    assert report.outcome is RunOutcome.OK, report.message


def test_stages_are_set_advanced_shown_and_handed_to_customer_success(
        world: dict[str, Any]) -> None:
    config, store, pack, clock = world["config"], world["store"], world["pack"], world["clock"]
    clock.freeze(APPROVED)  # HubSpot stamps hs_date_entered_<approved stage> now
    facts = {k: v for k, v in STAGE_ONE.items() if k != "economic_buyer"}
    prm_a, crm_a = pack.pair("Autopilot one", facts)
    prm_b, crm_b = pack.pair("Autopilot two", facts)
    clock.freeze(FIRST)
    cycle(config, store, FIRST + timedelta(minutes=1))
    # Set on the newly linked deal; entered when the registration was approved.
    assert pack.position(crm_a) == ("partner_to_direct", "pre_handoff_assessment", APPROVED)
    assert pack.prm_stage(prm_a) == "pre_handoff_assessment"
    status, missing = pack.verdict(crm_a)
    assert missing == ["Economic buyer identified and engaged"]

    # A person moves B to stage 4 and holds its co-led meetings; A's last fact is filled.
    clock.freeze(FILLED)
    pack.set_crm(crm_b, "responsibility_transition", 2)
    pack.fill(prm_a, "economic_buyer", "CFO Dana Lee")
    cycle(config, store, FILLED + timedelta(minutes=1))
    assert pack.position(crm_a) == ("partner_to_direct", "joint_discovery",
                                    FILLED + timedelta(minutes=1))
    assert pack.prm_stage(prm_a) == "joint_discovery"
    type_b, stage_b, _ = pack.position(crm_b)
    # The person's stage stands (and reaches the registration).
    assert (type_b, stage_b) == ("partner_to_direct", "responsibility_transition")
    assert pack.prm_stage(prm_b) == "responsibility_transition"
    status, missing = pack.verdict(crm_b)
    assert status.lower() == "blocked"  # stage 4's own gate passes, stage 1's does not
    assert "Stage 1 incomplete: Economic buyer identified and engaged" in missing

    # A is won: it moves to the customer-success handoff, entered when it was won.
    clock.freeze(WON)
    pack.win(crm_a)
    cycle(config, store, WON + timedelta(hours=1))
    assert pack.position(crm_a) == ("closed_won_to_cs", "kickoff", WON)
    status, missing = pack.verdict(crm_a)
    assert status.lower() == "blocked"
    assert "Success criteria for the first 90 days" in missing
    clocks = store.load_pipeline("partners").engine.clocks
    for clock_id in ("cs_handoff", "kickoff"):  # 48 hours; kickoff within 5 business days
        assert clocks[(f"prm:{prm_a}", "closed_won_to_cs", clock_id)].started_at == WON
    # Customer success holds the kickoff three days later: its clock is met.
    held = WON + timedelta(days=3)
    clock.freeze(held)
    pack.hold_kickoff(crm_a, held)
    cycle(config, store, held + timedelta(hours=1))
    assert pack.position(crm_a) == ("closed_won_to_cs", "kickoff", WON)  # it stays there
    kickoff = store.load_pipeline("partners").engine.clocks[
        (f"prm:{prm_a}", "closed_won_to_cs", "kickoff")]
    assert (kickoff.status.value, kickoff.stopped_at) == ("met", held)
