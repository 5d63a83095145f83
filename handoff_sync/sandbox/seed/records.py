"""The record builder: ids per object type in creation order, system fields and
timestamps, owners, and the values a scenario's records share."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from handoff_sync.sandbox.core.seed_data import HubSpotSeedObject, SeedData
from handoff_sync.sandbox.hubspot.schema import (
    ASSOCIATION_TYPES,
    DEFAULT_PIPELINE,
    PARTNER_PIPELINE,
    HsPipeline,
)
from handoff_sync.sandbox.hubspot.schema import HANDOFF_STAGES as HS_HANDOFF_STAGES
from handoff_sync.sandbox.hubspot.schema import HANDOFF_TYPES as HS_HANDOFF_TYPES
from handoff_sync.sandbox.salesforce.ids import case_suffix, salesforce_id
from handoff_sync.sandbox.salesforce.schema import HANDOFF_STAGES
from handoff_sync.sandbox.seed.draw import Moment, modified_between, moment
from handoff_sync.sandbox.seed.model import Person, Scenario
from handoff_sync.sandbox.seed.qualification import facts_of
from handoff_sync.sandbox.seed.rules import (
    HS_COMPANY_BASE,
    HS_CONTACT_BASE,
    HS_CRM_DEAL_BASE,
    HS_OWNER_BASE,
    HS_TASK_BASE,
    HS_USER_BASE,
    SF_PREFIX,
    segment_of,
)

# Salesforce opportunity stage -> the HubSpot default pipeline's stage.
HS_CRM_STAGE = {
    "Prospecting": "appointmentscheduled", "Qualification": "qualifiedtobuy",
    "Needs Analysis": "presentationscheduled", "Value Proposition": "presentationscheduled",
    "Id. Decision Makers": "decisionmakerboughtin",
    "Perception Analysis": "decisionmakerboughtin", "Proposal/Price Quote": "contractsent",
    "Negotiation/Review": "contractsent", "Closed Won": "closedwon", "Closed Lost": "closedlost",
}
_HS_HANDOFF_TYPE = {label: value for value, label in HS_HANDOFF_TYPES.items()}
_HS_HANDOFF_STAGE = {label: value for value, label in HS_HANDOFF_STAGES.items()}


def _stage_flags(pipeline: HsPipeline) -> dict[str, dict[str, str]]:
    """The calculated properties HubSpot derives from each stage of a pipeline."""
    return {stage.id: {
        "hs_is_closed": "true" if stage.is_closed else "false",
        "hs_is_closed_won": "true" if stage.is_closed and float(stage.probability) > 0
        else "false",
        "hs_deal_stage_probability": stage.probability,
    } for stage in pipeline.stages}


FLAGS = {**_stage_flags(DEFAULT_PIPELINE), **_stage_flags(PARTNER_PIPELINE)}


def sf_owner(person: Person) -> str:
    """A user id for records this person owns; their manager's while they have no user."""
    if person.sf_id is None:
        assert person.manager is not None
        return sf_owner(person.manager)
    return person.sf_id


def hs_owner(person: Person) -> str:
    if person.owner_id is None:
        assert person.manager is not None
        return hs_owner(person.manager)
    return person.owner_id


class IdSequence:
    """salesforce_id(prefix, 1), salesforce_id(prefix, 2), ... computed incrementally.

    Only the last two base-62 digits change between neighbours, so the head and two of the
    three checksum characters are computed once per 3,844 ids.
    """

    def __init__(self, key_prefix: str) -> None:
        self._prefix = key_prefix
        self._number = 0
        self._block = -1
        self._head = self._checksum = ""
        self._head_bits = 0

    def next(self) -> str:
        self._number += 1
        block, low = divmod(self._number, _LOW_SPAN)
        if block != self._block:
            first = salesforce_id(self._prefix, block * _LOW_SPAN)
            self._block, self._head, self._checksum = block, first[:13], first[15:17]
            self._head_bits = sum(1 << i for i, ch in enumerate(first[10:13]) if ch.isupper())
        digits, bits = _LOW_DIGITS[low]
        return self._head + digits + self._checksum + _CHUNK_CHAR[self._head_bits | bits]


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LOW_SPAN = 62 * 62
# The last two id digits and their upper-case bits (positions 3 and 4 of the last chunk).
_LOW_DIGITS = tuple((a + b, (a.isupper() << 3) | (b.isupper() << 4))
                    for a in _BASE62 for b in _BASE62)
# Checksum character for each upper-case bit pattern of a 5-character chunk.
_CHUNK_CHAR = tuple(
    case_suffix("0" * 10 + "".join("A" if bits >> i & 1 else "a" for i in range(5)))[2]
    for bits in range(32))


class Builder:
    """Collects the records, numbering ids per object type in creation order."""

    def __init__(self, rng: random.Random, now_ms: int) -> None:
        self.r = rng.random
        self.now_ms = now_ms
        self.data = SeedData(
            salesforce={name: [] for name in ("User", "Account", "Deal_Registration__c",
                                              "Opportunity", "Task")},
            hubspot={kind: [] for kind in ("companies", "contacts", "deals", "tasks")},
        )
        self._sf_ids = {name: IdSequence(prefix) for name, prefix in SF_PREFIX.items()}
        self._hs_numbers = {"companies": HS_COMPANY_BASE, "contacts": HS_CONTACT_BASE,
                            "tasks": HS_TASK_BASE, "crm_deals": HS_CRM_DEAL_BASE,
                            "owners": HS_OWNER_BASE, "users": HS_USER_BASE}
        self.by = ""  # the integration user: creator and last modifier of everything

    def sf_id(self, obj: str) -> str:
        return self._sf_ids[obj].next()

    def hs_number(self, kind: str) -> int:
        self._hs_numbers[kind] += 1
        return self._hs_numbers[kind]

    def stamps(self, created_ms: int, since_ms: int) -> tuple[Moment, Moment]:
        """Created and last-modified instants; modified falls between since and now."""
        return moment(created_ms), moment(modified_between(self.r, created_ms, since_ms,
                                                           self.now_ms))

    def sf(self, obj: str, record_id: str, stamps: tuple[Moment, Moment],
           record: dict[str, Any]) -> dict[str, Any]:
        """Add the system fields to ``record`` and keep it."""
        (created, _), (modified, _) = stamps
        record["Id"] = record_id
        record["IsDeleted"] = False
        record["CreatedDate"] = created
        record["CreatedById"] = record["LastModifiedById"] = self.by
        record["LastModifiedDate"] = record["SystemModstamp"] = modified
        self.data.salesforce[obj].append(record)
        return record

    def hs(self, kind: str, object_id: str, stamps: tuple[Moment, Moment],
           props: dict[str, str | None]) -> None:
        (created, created_iso), (modified, modified_iso) = stamps
        props["hs_object_id"] = object_id
        props["createdate"] = created_iso
        props["hs_lastmodifieddate"] = modified_iso
        self.data.hubspot[kind].append(HubSpotSeedObject(object_id, props, created, modified))

    def associate(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        self.data.hubspot_associations.append(
            (from_type, from_id, to_type, to_id, ASSOCIATION_TYPES[(from_type, to_type)]))


@dataclass(slots=True)
class Shared:
    """Values a scenario's records share, converted once for both systems."""

    registered: tuple[Moment, Moment]  # created / modified of both registrations
    entered: Moment  # handoff stage entered
    handoff: dict[str, str | None]  # handoff properties of both HubSpot deals
    prm_facts: tuple[dict[str, Any], dict[str, str | None]]
    converted: tuple[Moment, Moment] | None = None  # created / modified of the CRM pair
    crm_facts: tuple[dict[str, Any], dict[str, str | None]] | None = None


def shared_values(b: Builder, s: Scenario) -> Shared:
    entered_ms = s.stage_starts[-1]
    entered = moment(entered_ms)
    shared = Shared(b.stamps(s.created_ms, entered_ms), entered, _handoff_props(s, entered),
                    facts_of(s.prm_quals))
    if s.has_crm:
        shared.converted = b.stamps(s.crm_created_ms, entered_ms)
        shared.crm_facts = (shared.prm_facts if s.crm_quals is s.prm_quals
                            else facts_of(s.crm_quals))
    return shared


def _handoff_props(s: Scenario, entered: Moment) -> dict[str, str | None]:
    return {
        "handoff_type": _HS_HANDOFF_TYPE[s.handoff_type],
        "handoff_stage": _HS_HANDOFF_STAGE[HANDOFF_STAGES[s.stage - 1]],
        "handoff_stage_entered_at": entered[1],
        "region": s.region,
        "segment": segment_of(s.amount)[1],  # by the registered amount on both deals
    }
