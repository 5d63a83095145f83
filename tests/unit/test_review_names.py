"""What a review item is called, as the console's filters see it: its deals named from
their records (registration first), partners from its registrations and its details,
the opportunities a link may offer, people from the agreed values first."""

from __future__ import annotations

from typing import Any

from handoff_sync.engine.types import ReviewItem, ReviewKind
from handoff_sync.sync.review_names import DealValues, deal_names, item_dict, review_names

PRM = {"1": {"deal_name": "Blue Widget", "account_name": "Acme Inc",
             "partner_account": "North Partners", "partner_rep_email": "rep@north.example"},
       "2": {"deal_name": "Blue widget rollout", "partner_account": "South Ltd"}}
CRM = {"0061": {"deal_name": "BLUE WIDGET (Acme)", "ae_email": "crm-side@vendor.example"},
       "0062": {"deal_name": "Red Gadget", "account_name": "Globex"},
       "0063": {"deal_name": "Linked elsewhere"}}
LINKS = {"2": "0063"}
AGREED = {"prm:1": {"ae_email": "ann@vendor.example"}}


def values() -> DealValues:
    return DealValues(lambda prm_id: PRM.get(prm_id, {}), lambda crm_id: CRM.get(crm_id, {}),
                      LINKS.get, lambda key: AGREED.get(key, {}))


def test_a_deal_is_named_from_its_registration_then_its_opportunity() -> None:
    names = deal_names(PRM["1"], CRM["0061"], AGREED["prm:1"])
    assert (names.name, names.crm_name, names.account, names.partner) == (
        "Blue Widget", "BLUE WIDGET (Acme)", "Acme Inc", "North Partners")
    # People: the agreed values before either record's.
    assert names.people == (("partner rep", "rep@north.example"),
                            ("AE", "ann@vendor.example"))
    assert deal_names({}, CRM["0062"], {}).crm_name is None  # not told twice


def test_a_conflict_names_every_registration_partner_and_offered_opportunity() -> None:
    item: dict[str, Any] = item_dict(ReviewItem(
        "channel_conflict:1,2", ReviewKind.CHANNEL_CONFLICT, "prm:1",
        "2 registrations from 2 partners", candidates=(("0062", 0.9),),
        details={"registrations": ["1", "2"], "partners": {"3": "West_Co 100%"}}))
    names = review_names(item, values())
    assert names.partners == "\nnorth partners\n\nsouth ltd\n\nwest_co 100%\n"
    for word in ("channel_conflict:1,2", "blue widget rollout", "acme inc", "red gadget",
                 "crm:0063", "linked elsewhere", "rep@north.example", "globex"):
        assert word in names.text
    assert names.text == names.text.casefold()


def test_a_persons_item_names_its_own_deal_only() -> None:
    item = item_dict(ReviewItem(
        "unresolved_owner:prm:2:crm_owner", ReviewKind.UNRESOLVED_OWNER, "prm:2",
        "Ann has no CRM user", candidates=(("0062", 0.5),),
        details={"role": "crm_owner", "email": "Ann@Vendor.example"}))
    names = review_names(item, values())
    assert names.partners == "\nsouth ltd\n"
    assert "ann@vendor.example" in names.text and "blue widget rollout" in names.text
    assert "red gadget" not in names.text  # no link offered from a person's entry
    unknown = review_names({**item, "deal": "owner:ann"}, values())
    assert unknown.partners == "" and "ann has no crm user" in unknown.text
