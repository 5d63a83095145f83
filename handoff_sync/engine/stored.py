"""Values in the form each side will hold them, cheaply: the engine's echo suppression.

``mapping.convert.as_stored`` answers "what will this system give back if we write this
value?" by running the write and read transforms. The engine asks that for every field
of every deal, twice, so this wrapper answers the common cases without the round trip:
plain text is stored as given, and repeated values (booleans, picklist values, owner
emails, stage names) are remembered for the cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from connectors.base import ObjectSchema
from handoff_sync.mapping.system.convert import SystemMapping, as_stored
from handoff_sync.mapping.system.describe import write_problem
from handoff_sync.model import Output, OwnerDirectory, Role, Value

# Text transforms whose write-then-read leaves a canonical (already cleaned) text as is.
_IDENTITY_TRANSFORMS = frozenset({"text", "email", "domain"})
_FIELD_CACHE_LIMIT = 2_048  # per field: picklists, flags and owners fit; unique values churn

Form = Callable[[Value], Value]


class StoredForms:
    """``stored(role, name, value)``: ``value`` as ``role``'s system would hold it."""

    def __init__(self, sides: Mapping[Role, SystemMapping],
                 owners: Mapping[Role, OwnerDirectory],
                 limits: Mapping[Role, ObjectSchema] | None = None) -> None:
        self._sides = sides
        self._owners = owners
        self._limits = limits or {}
        self._identity: set[tuple[Role, str | Output]] = set()
        for role, mapping in sides.items():
            rules = [*mapping.fields.items(), *mapping.outputs.items()]
            for name, rule in rules:
                if (rule.transform.name in _IDENTITY_TRANSFORMS and rule.values is None
                        and rule.system_field is not None):
                    self._identity.add((role, name))
        # (side, field) -> its form, made on first use; None: held as given.
        self._forms: dict[tuple[Role, str | Output], Form | None] = {}

    def __call__(self, role: Role, name: str | Output, value: Value) -> Value:
        try:
            form = self._forms[(role, name)]
        except KeyError:
            form = self._forms[(role, name)] = self.form(role, name)
        return value if form is None else form(value)

    def form(self, role: Role, name: str | Output) -> Form | None:
        """``stored`` for one field of one side, or None when the side holds any value as
        given (no mapping rule or no system field): the merge loop asks this about 80
        times per deal, so the rule lookup is done once here."""
        side, owners = self._sides[role], self._owners[role]
        rule = side.outputs.get(name) if isinstance(name, Output) else side.fields.get(name)
        if rule is None or rule.system_field is None:
            return None
        identity = (role, name) in self._identity
        cache: dict[Value, Value] = {}

        def stored_form(value: Value) -> Value:
            if isinstance(value, str):
                if identity and value.strip():
                    return value
                if len(value) > 200:  # briefs, notes: rarely repeated
                    return as_stored(side, name, value, owners)
            try:
                return cache[value]
            except KeyError:
                pass
            except TypeError:  # an unhashable value: compute it every time
                return as_stored(side, name, value, owners)
            result = as_stored(side, name, value, owners)
            if len(cache) >= _FIELD_CACHE_LIMIT:
                cache.clear()
            cache[value] = result
            return result

        return stored_form

    def keeps_text(self, role: Role, name: str | Output) -> bool:
        """Whether ``role`` holds any non-blank text for ``name`` as given (its form
        returns it unchanged), so a caller may skip asking."""
        return (role, name) in self._identity

    def problem(self, role: Role, name: str, value: Value) -> str | None:
        """Why ``role``'s system would refuse ``value`` for ``name`` (longer or larger than
        its described field holds); None when it fits or nothing is known of its limits."""
        described = self._limits.get(role)
        if described is None:
            return None
        return write_problem(self._sides[role], name, value, self._owners[role], described)
