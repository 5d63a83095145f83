from datetime import date
from decimal import Decimal

import pytest

from connectors.reading import is_blank
from handoff_sync.model import (
    CANONICAL_FIELDS,
    Deal,
    FieldType,
    Owner,
    OwnerDirectory,
    is_custom_field,
)


def test_catalogue_lists_every_deal_field_with_label_type_and_doc():
    assert "amount" in CANONICAL_FIELDS and "custom" not in CANONICAL_FIELDS
    assert CANONICAL_FIELDS["amount"].type is FieldType.NUMBER
    assert CANONICAL_FIELDS["competitors"].type is FieldType.TEXT_LIST
    assert all(spec.label and spec.doc for spec in CANONICAL_FIELDS.values())
    assert not CANONICAL_FIELDS["pipeline"].mappable


def test_deal_from_values_and_get_including_custom_fields():
    deal = Deal.from_values({"amount": Decimal("5"), "close_date": date(2026, 1, 2),
                             "custom.region": "EMEA"}, pipeline="p1")
    assert deal.get("amount") == Decimal("5")
    assert deal.get("custom.region") == "EMEA"
    assert deal.get("custom.missing") is None
    assert deal.pipeline == "p1"
    assert deal.values() == {"pipeline": "p1", "amount": Decimal("5"),
                             "close_date": date(2026, 1, 2), "custom.region": "EMEA"}


def test_deal_rejects_names_outside_the_closed_set():
    with pytest.raises(KeyError, match="amout"):
        Deal.from_values({"amout": 1})
    with pytest.raises(KeyError):
        Deal().get("amout")


@pytest.mark.parametrize(("name", "ok"), [("custom.region", True), ("custom.a1_b", True),
                                          ("custom.", False), ("custom.Region", False),
                                          ("custom.1a", False), ("region", False),
                                          ("custom.a.b", False)])
def test_custom_field_names(name, ok):
    assert is_custom_field(name) is ok


@pytest.mark.parametrize(("value", "blank"), [(None, True), ("", True), ("  ", True), ((), True),
                                              ("x", False), (0, False), (False, False),
                                              (("a",), False)])
def test_is_blank(value, blank):
    assert is_blank(value) is blank


def test_owner_directory_resolves_both_ways_and_prefers_active_users():
    directory = OwnerDirectory([
        Owner("005A", "Ann@Example.com", active=False),
        Owner("005B", "ann@example.com", manager_id="005M"),
        Owner("005M", "boss@example.com"),
        Owner("005X", "gone@example.com", active=False),
    ])
    assert directory.email_for("005A") == "ann@example.com"
    assert directory.id_for(" ANN@example.com ") == "005B"
    assert directory.id_for("gone@example.com") is None  # inactive users get no new work
    assert directory.manager_email("ann@example.com") == "boss@example.com"
    assert directory.email_for("nope") is None
    assert len(directory) == 4


def test_an_email_two_active_users_share_names_nobody():
    directory = OwnerDirectory([
        Owner("005B", "ann@example.com", name="Ann Lee"),
        Owner("005A", "Ann@Example.com", manager_id="005M", name="Ann Lee (old)"),
        Owner("005C", "ann@example.com", active=False),  # inactive: no share in it
        Owner("005M", "boss@example.com"),
        Owner("005D", "dan@example.com"),
        Owner("005E", "dan@example.com", active=False),
    ])
    assert directory.id_for("ann@example.com") is None  # not whichever came first
    assert directory.manager_email("ann@example.com") is None
    assert [o.id for o in directory.active_holders(" ANN@example.com")] == ["005A", "005B"]
    assert list(directory.duplicates()) == ["ann@example.com"]
    assert directory.id_for("dan@example.com") == "005D"  # one active, one inactive: fine
    assert OwnerDirectory([Owner("005B", "ann@example.com")]).duplicates() == {}
