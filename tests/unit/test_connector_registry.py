"""The registry is the one list of systems: every row loads a connector that says it is
that system, every row has its config section, and what the product knows of a system
(batch sizes, raw value style, record shape) is the row's answer, not a name switch."""

from __future__ import annotations

import ast
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest

from connectors.base import Connector
from connectors.registry import SYSTEMS, SystemSpec, spec
from handoff_sync.config.connections import AnyConnectionConfig
from handoff_sync.engine.types import FieldWrite, Plan
from handoff_sync.mapping.explain import guess_system
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.mapping.system.convert import flatten_record
from handoff_sync.mapping.system.transforms import TRANSFORMS
from handoff_sync.model import OwnerDirectory, Role, SystemName
from handoff_sync.sync.write import Side, write_call_estimate

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"


@pytest.mark.parametrize("row", SYSTEMS.values(), ids=list(SYSTEMS))
def test_each_row_loads_a_connector_of_its_own_system(row: SystemSpec) -> None:
    cls: Any = row.connector_class()
    assert cls.system == row.name
    protocol = [name for name, value in vars(Connector).items()
                if callable(value) and not name.startswith("_")]
    assert "upsert_tasks" in protocol
    assert [name for name in protocol if not callable(getattr(cls, name, None))] == []
    assert dataclasses.is_dataclass(row.settings_class())
    assert min(row.write_batch, row.task_batch, row.read_page) >= 1


def test_the_system_names_are_the_registry_rows_in_order() -> None:
    assert [s.value for s in SystemName] == list(SYSTEMS) == ["salesforce", "hubspot", "files"]
    with pytest.raises(KeyError, match="known: salesforce, hubspot, files"):
        spec("zoho")


def test_every_system_has_one_config_section() -> None:
    """(test_config_connect checks what each section's connector_settings() builds.)"""
    systems = [get_args(model.model_fields["system"].annotation)
               for model in get_args(AnyConnectionConfig)]
    assert systems == [(name,) for name in SYSTEMS]


def _side(role: Role, mappings: Any) -> Side:
    return Side(role, None, mappings.side(role), OwnerDirectory())  # type: ignore[arg-type]


def test_the_cost_of_a_plan_is_counted_at_each_systems_batch_size() -> None:
    mappings = load_mappings(MAPPINGS)  # prm: hubspot, crm: salesforce
    writes = tuple(FieldWrite(role, f"{role.value}-{n}", f"deal-{n}")
                   for role in Role for n in range(201))
    plan = Plan(pipeline="p", now=datetime(2026, 1, 1, tzinfo=UTC), writes=writes)
    calls = write_call_estimate(plan, {role: _side(role, mappings) for role in Role})
    assert calls == {"hubspot": 3, "salesforce": 2}  # 100 per HubSpot batch, 200 per collection


def test_raw_values_are_written_as_each_row_says() -> None:
    currency = TRANSFORMS["currency"]
    assert currency.write(Decimal("12.5"), SystemName("salesforce")) == 12.5
    assert currency.write(Decimal("12.5"), SystemName("hubspot")) == "12.5"
    assert [spec(name).text_values for name in SYSTEMS] == [False, True, True]


def test_records_are_flattened_and_recognised_by_their_rows() -> None:
    hubspot = {"id": "7", "properties": {"dealname": "Acme"}}
    salesforce = {"attributes": {"type": "Opportunity"}, "Id": "006A", "Name": "Acme"}
    assert guess_system(hubspot) == "hubspot"
    assert guess_system(salesforce) == "salesforce"
    assert guess_system({"reg_id": "R-1"}) is None  # a file-drop row has no shape to know
    # Nested 'properties' is HubSpot's shape even beside a Salesforce-like Id.
    assert guess_system({"Id": "1", "properties": {}}) == "hubspot"
    assert flatten_record(SystemName("hubspot"), hubspot) == {"dealname": "Acme",
                                                               "hs_object_id": "7"}
    assert flatten_record(SystemName("salesforce"), salesforce) == {"Id": "006A",
                                                                     "Name": "Acme"}
    row = {"attributes": "a column", "reg_id": "R-1"}
    assert flatten_record(SystemName("files"), row) == row


def test_only_a_read_only_system_is_untyped_and_unwritable() -> None:
    assert [name for name, row in SYSTEMS.items() if row.read_only] == ["files"]
    assert [name for name, row in SYSTEMS.items() if row.untyped] == ["files"]


# Where docs/contributing.md says a system is still named outside connectors/: each
# connection section's `system: Literal[...]`, the connection blocks `init` writes, and
# the demo's sandbox wiring.
NAMED_ON_PURPOSE = {"handoff_sync/config/connections.py", "handoff_sync/config/template.py",
                    "handoff_sync/demo/sandbox_config.py", "handoff_sync/cli/sandbox.py"}
ROOT = Path(__file__).resolve().parents[2]


def names_a_system(path: Path) -> list[str]:
    """Each place in ``path`` that names a system: the name as a string literal, or a
    ``SystemName.<MEMBER>`` switch."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and node.value in SYSTEMS:
            found.append(f"{node.lineno}: {node.value!r}")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "SystemName"):
            found.append(f"{node.lineno}: SystemName.{node.attr}")
    return found


def test_the_product_names_no_system_outside_the_contributing_list() -> None:
    named = {str(path.relative_to(ROOT)): hits
             for path in sorted((ROOT / "handoff_sync").rglob("*.py"))
             # the sandbox stands in for the vendors; the test kit builds their data
             if not {"sandbox", "testing"} & set(path.relative_to(ROOT / "handoff_sync").parts)
             for hits in [names_a_system(path)] if hits}
    assert set(named) <= NAMED_ON_PURPOSE, named


def test_the_check_sees_a_name_switch(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("if system == 'hubspot' or system is SystemName.FILES:\n    pass\n")
    assert names_a_system(probe) == ["1: 'hubspot'", "1: SystemName.FILES"]
