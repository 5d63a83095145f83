"""The rules the generated org follows: thresholds, stage windows, link kinds,
registration statuses, the integration and RevOps users, and id ranges."""

from __future__ import annotations

from datetime import UTC, datetime

from handoff_sync.sandbox.salesforce.schema import HANDOFF_TYPES, OBJECTS

# Credentials.sf_username's default: the user the daemon logs in as.
INTEGRATION_USERNAME = "integration@handoff-sync.sandbox"
# Tasks nobody else can own go to the policy's fallback owner; the demo org has that user.
REVOPS_EMAIL = "revops@example.com"
VENDOR_DOMAIN = "vendor.example"
HANDOFF_THRESHOLD = 100_000  # default "handoff required" amount
# Customer segment by the deal's registered amount (Salesforce picklist value, HubSpot
# internal value), largest band first. Derived, never drawn: adding the segment took no
# draw from the random stream, so it changed no other seeded value.
SEGMENT_BANDS = ((100_000, "Enterprise", "enterprise"), (25_000, "Mid-Market", "mid_market"),
                 (0, "SMB", "smb"))
# The default policy's go-live (closed_won_to_cs.required_when in mappings/handoff.yaml).
# The direct deals are the org's history from before it, so they need no CS handoff (no
# task, no SLA clock) whatever the clock says; only the report reads them.
CS_HANDOFF_GO_LIVE = datetime(2026, 11, 1, tzinfo=UTC)
# Length of each partner-handoff stage window in days (domain.md: 1-2, 3-5, 6-10, 11-20, 21-30).
STAGE_WINDOW_DAYS = (2, 3, 5, 10, 10)
LINK_KINDS = ("explicit", "fuzzy", "ambiguous", "conflict", "none")
# One closed direct deal per this many registrations (never fewer than direct.py's minimum).
DIRECT_DEALS_PER_REGISTRATIONS = 50

PARTNER_TO_DIRECT, CLOSED_WON_TO_CS = HANDOFF_TYPES
SUBMITTED, APPROVED, REJECTED, EXPIRED, CONVERTED = (
    "Submitted", "Approved", "Rejected", "Expired", "Converted")
HAS_CRM = (APPROVED, CONVERTED)

# HubSpot ids: one numeric range per object type so they read apart in logs.
HS_PARTNER_DEAL_BASE = 9_000_000_000
HS_CRM_DEAL_BASE = 9_500_000_000
HS_COMPANY_BASE = 6_000_000_000
HS_CONTACT_BASE = 3_000_000_000
HS_TASK_BASE = 7_000_000_000
HS_OWNER_BASE = 41_000_000
HS_USER_BASE = 8_100_000
# Salesforce ids: each object's key prefix (001 Account, 006 Opportunity, ...).
SF_PREFIX = {name: obj.key_prefix for name, obj in OBJECTS.items()}


def segment_of(amount: float) -> tuple[str, str]:
    """(Salesforce value, HubSpot value) of the segment a deal of ``amount`` falls in."""
    return next(((sf, hs) for floor, sf, hs in SEGMENT_BANDS if amount >= floor),
                SEGMENT_BANDS[-1][1:])
