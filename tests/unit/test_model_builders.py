"""The fast builders of model.py (quick_init, deal_with, read_deal) build exactly what the
plain dataclass machinery builds: same values, equality, hash, defaults, immutability."""

import dataclasses
import pickle
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType

import pytest

from handoff_sync.model import CANONICAL_FIELDS, Deal, deal_with, quick_init, read_deal


@dataclass(frozen=True, slots=True)
class _Plain:
    name: str
    count: int = 3
    tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)


@quick_init
@dataclass(frozen=True, slots=True)
class _Quick:
    name: str
    count: int = 3
    tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)


@pytest.mark.parametrize("args, kwargs", [(("a",), {}), (("a", 5), {}),
                                          (("a",), {"tags": ("x",)}),
                                          ((), {"name": "b", "count": 0})])
def test_quick_init_builds_what_the_dataclass_init_builds(args, kwargs):
    plain, quick = _Plain(*args, **kwargs), _Quick(*args, **kwargs)
    assert dataclasses.astuple(plain) == dataclasses.astuple(quick)
    assert quick == _Quick(*args, **kwargs) and hash(quick) == hash(_Quick(*args, **kwargs))
    assert repr(quick) == repr(plain).replace("_Plain", "_Quick")
    assert pickle.loads(pickle.dumps(quick)) == quick
    assert dataclasses.replace(quick, count=9).count == 9
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.count = 1  # type: ignore[misc]


def test_quick_init_keeps_the_signature_errors():
    with pytest.raises(TypeError):
        _Quick()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Quick("a", nope=1)  # type: ignore[call-arg]


def test_quick_init_refuses_what_it_does_not_support():
    @dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True)
    class Unslotted:
        value: int

    for cls in (Checked, Unslotted):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)


def _deal() -> Deal:
    return Deal.from_values({"deal_name": "Acme", "amount": Decimal("5"),
                             "stage_entered_at": datetime(2026, 1, 2, tzinfo=UTC),
                             "custom.region": "EMEA"}, pipeline="p1")


def test_deal_with_is_dataclasses_replace():
    deal = _deal()
    changes = {"handoff_type": "partner_to_direct", "handoff_stage": "s2", "amount": None}
    assert deal_with(deal, **changes) == dataclasses.replace(deal, **changes)
    assert deal_with(deal) == deal and deal_with(deal) is not deal
    with pytest.raises(TypeError):
        deal_with(deal, not_a_field=1)


def test_read_deal_takes_the_canonical_names_and_ignores_others():
    deal = _deal()
    values = {**deal.values(), "custom.region": "ignored: custom comes apart", "extra": 1,
              "pipeline": "ignored: the pipeline comes apart"}
    # Names read from a file are equal strings but other objects than the parameters'.
    values = {"".join(list(name)): value for name, value in values.items()}
    assert read_deal(values, "p1", deal.custom) == deal
    assert read_deal({}, None, MappingProxyType({})) == Deal()


def test_get_and_canonical_read_every_field():
    deal = _deal()
    assert deal.canonical() == {name: getattr(deal, name) for name in CANONICAL_FIELDS}
    assert [deal.get(name) for name in CANONICAL_FIELDS] == list(deal.canonical().values())
    assert deal.get("custom.region") == "EMEA" and deal.get("custom.other") is None
    with pytest.raises(KeyError):
        deal.get("custom")
