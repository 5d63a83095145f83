"""A declarative condition of mappings/handoff.yaml: {field, op, value}, all:, any:, not:.

Conditions are data, evaluated by policy/conditions.py - never executed as code. They sit
in gates, tasks, handoff types, creation, routing and the funnels of ``measures:``, so the
model has a module of its own that every part of the policy schema can import.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr, model_validator

from handoff_sync.mapping.system.file_model import FileModel

Operator = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not_in", "contains",
                   "is_blank", "is_filled", "is_true", "is_false"]
UNARY_OPERATORS = frozenset({"is_blank", "is_filled", "is_true", "is_false"})


class Condition(FileModel):
    """A test on the deal: {field, op, value}, or all:/any: of a list, or not: of one."""

    field: str | None = None
    """The canonical field to test."""
    op: Operator | None = None
    """The comparison: ==, !=, >, >=, <, <=, in, not_in, contains, is_blank, is_filled,
    is_true, is_false."""
    value: Any = None
    """What to compare with (a list for in/not_in; nothing for is_* operators)."""
    all: list[Condition] | None = None
    """True when every listed condition is true."""
    any: list[Condition] | None = None
    """True when at least one listed condition is true."""
    not_: Condition | None = Field(default=None, alias="not")
    """True when the given condition is false."""

    # Operands converted to the tested field's type, filled on first use (conditions.py).
    _operands: dict[str, Any] = PrivateAttr(default_factory=dict)
    # The condition compiled to a function of the deal's lookup, on first use (conditions.py).
    _compiled: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [name for name, present in (
            ("field", self.field is not None or self.op is not None),
            ("all", self.all is not None), ("any", self.any is not None),
            ("not", self.not_ is not None)) if present]
        if len(forms) != 1:
            shown = ", ".join(forms) if forms else "none"
            raise ValueError("a condition is exactly one of {field, op, value}, all: [...], "
                             f"any: [...] or not: {{...}} (found: {shown})")
        if forms == ["field"]:
            if self.field is None or self.op is None:
                raise ValueError("a field test needs both 'field' and 'op'")
            unary = self.op in UNARY_OPERATORS
            if unary and "value" in self.model_fields_set:
                raise ValueError(f"operator '{self.op}' takes no 'value'")
            if not unary and "value" not in self.model_fields_set:
                raise ValueError(f"operator '{self.op}' needs a 'value'")
        elif (forms == ["all"] and not self.all) or (forms == ["any"] and not self.any):
            raise ValueError(f"'{forms[0]}' needs at least one condition")
        elif "value" in self.model_fields_set:
            raise ValueError("'value' belongs to a field test, not to all/any/not")
        return self
