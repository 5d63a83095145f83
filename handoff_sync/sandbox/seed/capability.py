"""A partner's capabilities (partner readiness): how well it runs technical conversations,
navigates its own customer's approvals, and how many certified engineers it has.

Derived from the partner's tier and diligence, so capable partners are mostly the ones
that also fill their registrations well, with a partner-of-its-own spread. The spread
comes from a generator of its own, seeded from the seed, the partner's index and this
module's name: the main random stream is not drawn from, so every other seeded value is
what it was before partners had capabilities.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from handoff_sync.sandbox.hubspot import schema as hs
from handoff_sync.sandbox.salesforce.schema import (
    APPROVAL_NAVIGATION,
    PARTNER_TIERS,
    TECHNICAL_CONVERSATIONS,
)
from handoff_sync.sandbox.seed.model import Partner


@dataclass(frozen=True, slots=True)
class Capability:
    technical_conversations: int  # index into TECHNICAL_CONVERSATIONS, weakest first
    approval_navigation: int  # index into APPROVAL_NAVIGATION, weakest first
    certified_engineers: int

    def salesforce(self) -> dict[str, object]:
        """The Account fields (picklist labels)."""
        return {"Technical_Conversations__c":
                TECHNICAL_CONVERSATIONS[self.technical_conversations],
                "Approval_Navigation__c": APPROVAL_NAVIGATION[self.approval_navigation],
                "Certified_Engineers__c": float(self.certified_engineers)}

    def hubspot(self, tier: str) -> dict[str, str]:
        """The company properties (option values, numbers as text)."""
        return {"partner_tier": list(hs.PARTNER_TIERS)[PARTNER_TIERS.index(tier)],
                "technical_conversations":
                list(hs.TECHNICAL_CONVERSATIONS)[self.technical_conversations],
                "approval_navigation": list(hs.APPROVAL_NAVIGATION)[self.approval_navigation],
                "certified_engineers": str(self.certified_engineers)}


def capability_of(partner: Partner, random_seed: int) -> Capability:
    """The partner's capabilities: a blend of its tier (0..1) and diligence, each read
    with a little noise of its own."""
    rng = random.Random(f"{random_seed}:{partner.index}:partner-capability")
    tier = PARTNER_TIERS.index(partner.tier) / (len(PARTNER_TIERS) - 1)
    base = 0.5 * tier + 0.5 * partner.diligence

    def level(count: int) -> int:
        return min(count - 1, max(0, int((base + rng.uniform(-0.2, 0.2)) * count)))

    conversations = level(len(TECHNICAL_CONVERSATIONS))
    approvals = level(len(APPROVAL_NAVIGATION))
    engineers = max(0, round(6 * tier + 3 * partner.diligence + rng.uniform(-1.5, 1.5)))
    return Capability(conversations, approvals, engineers)
