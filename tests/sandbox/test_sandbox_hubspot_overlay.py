"""The HubSpot property registry under the schema overlay, below the HTTP layer: what the
API shows changes, what the records and their indexes rely on does not."""

from __future__ import annotations

import pytest

from handoff_sync.sandbox.core.http import ApiError
from handoff_sync.sandbox.hubspot.overlay import HubSpotOverlayError, parse
from handoff_sync.sandbox.hubspot.properties import PropertyRegistry

NEW_PROPERTY = {"name": "budget", "label": "Budget", "type": "number", "fieldType": "number",
                "groupName": "handoff"}


@pytest.fixture
def registry() -> PropertyRegistry:
    found = PropertyRegistry()
    found.overlay.replace(parse({"deal": {"hidden": ["partner_registration_id"],
                                          "read_only": ["handoff_brief"]}},
                                found.is_hubspot_defined))
    return found


def test_the_api_view_archives_and_locks(registry: PropertyRegistry) -> None:
    assert registry.get("deals", "partner_registration_id") is None
    assert "partner_registration_id" not in {p.name for p in registry.all("deals")}
    assert [p.name for p in registry.archived("deals")] == ["partner_registration_id"]
    brief = registry.get("deals", "handoff_brief")
    assert brief is not None and brief.read_only_value
    defined = registry.defined("deals", "handoff_brief")  # the records' view is unlocked
    assert defined is not None and not defined.read_only_value


def test_records_keep_their_unique_index_under_the_overlay(registry: PropertyRegistry) -> None:
    # Archiving or writing a record still maintains the index of a hidden unique property,
    # so a restored property finds its values where they were.
    assert "partner_registration_id" in registry.unique_names("deals")


def test_an_archived_name_cannot_be_created_again(registry: PropertyRegistry) -> None:
    with pytest.raises(ApiError) as exc:
        registry.create("deals", {**NEW_PROPERTY, "name": "partner_registration_id"}, 0)
    assert exc.value.status == 409


def test_the_overlay_outlives_a_reset_but_not_a_clear(registry: PropertyRegistry) -> None:
    registry.create("deals", {**NEW_PROPERTY, "name": "extra_fact"}, 0)
    registry.reset()  # a reseed: created properties go, the drift stays
    assert registry.get("deals", "extra_fact") is None
    assert registry.get("deals", "partner_registration_id") is None
    registry.overlay.clear()
    assert registry.get("deals", "partner_registration_id") is not None


def test_a_created_property_can_be_archived() -> None:
    registry = PropertyRegistry()
    registry.create("deals", {**NEW_PROPERTY, "name": "extra_fact"}, 0)
    spec = parse({"deals": {"hidden": ["extra_fact"]}}, registry.is_hubspot_defined)
    assert spec == {"deals": {"hidden": ("extra_fact",), "read_only": ()}}
    with pytest.raises(HubSpotOverlayError, match="cannot be archived"):
        parse({"deals": {"hidden": ["amount"]}}, registry.is_hubspot_defined)
