"""The one error tree (handoff_sync/errors.py): every error a person can fix is a UserError
with a hint, or a connector error; nothing else is raised at people."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import connectors
import handoff_sync
from connectors.errors import AuthError, ConnectorError
from handoff_sync import errors
from handoff_sync.errors import (
    USER_ERRORS,
    CommandError,
    ConfigError,
    ConflictError,
    LeaseLost,
    MappingError,
    SchemaOutdated,
    StoreError,
    UserError,
    exit_code_of,
)

# Raised and caught inside one module, or pydantic's carriers; never shown as they are.
INTERNAL = {
    "handoff_sync.sync.cycle.CycleFailed",  # becomes the failed run's message
    "handoff_sync.sync.pull.PullStopped",  # a stop, recorded as nothing
    "handoff_sync.problems.pydantic_errors.KeyProblems",  # a validator's problems at keys
    "handoff_sync.problems.yaml_source._Fatal",  # becomes a Problem
    "handoff_sync.problems.yaml_source._Limit",  # becomes a Problem
    "handoff_sync.console.offload.Busy",  # an HTTPException: the console's 429 answer
    "handoff_sync.mapping.system.transforms.ValueProblem",  # becomes a per-value problem
    "connectors.errors.StopRequested",  # not a failure
    "connectors.secret_text.SecretTextError",  # becomes SecretError or AuthError
    "connectors.files.formats.FileRejected",  # becomes a per-file problem of the drop
    "connectors.files.formats.Undecodable",
    "connectors.files.formats._DuplicateKey",
    "connectors.files.folder.Refused",  # becomes a per-file problem of the drop
    "connectors.reading.Unreadable",  # becomes a row problem or a per-value problem
}


def _modules(package: ModuleType, skip: str | None = None) -> list[ModuleType]:
    found = [package]
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if (skip and info.name.startswith(skip)) or info.name.endswith(".__main__"):
            continue  # __main__ runs the command line when imported
        found.append(importlib.import_module(info.name))
    return found


def _exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in handoff_sync (the sandbox stands alone) and in
    connectors, by its dotted name."""
    classes: dict[str, type[BaseException]] = {}
    modules = [*_modules(handoff_sync, skip="handoff_sync.sandbox"), *_modules(connectors)]
    for module in modules:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                classes[f"{value.__module__}.{value.__qualname__}"] = value
    return classes


CLASSES = _exception_classes()


def test_every_exception_class_is_in_the_tree_or_known_to_be_internal() -> None:
    outside = sorted(name for name, cls in CLASSES.items()
                     if not issubclass(cls, USER_ERRORS) and name not in INTERNAL)
    assert outside == [], "re-parent these under handoff_sync.errors (or say why not)"
    assert not INTERNAL - set(CLASSES), "INTERNAL names a class that no longer exists"


@pytest.mark.parametrize("name", sorted(n for n, c in CLASSES.items() if issubclass(c, UserError)))
def test_every_user_error_has_a_hint_of_its_own_family(name: str) -> None:
    cls = CLASSES[name]
    assert isinstance(cls.hint, str) and cls.hint.strip(), f"{name} has no hint"
    if cls is not UserError:
        assert cls.hint != UserError.hint, f"{name} only inherits the root's generic hint"


@pytest.mark.parametrize(("dotted", "parent"), [
    ("handoff_sync.config.secrets.SecretError", ConfigError),
    ("handoff_sync.config.init_files.InitError", UserError),
    ("handoff_sync.report.source.ReportError", UserError),
    ("handoff_sync.demo.scenario.DemoError", UserError),
    ("handoff_sync.demo.people.GeneratorError", UserError),
    ("handoff_sync.sync.review_link.LinkRefused", ConflictError),
    ("handoff_sync.cli.mappings.InputError", CommandError),
    ("handoff_sync.cli.plan_view.NoSuchDeal", CommandError),
])
def test_the_leaves_hang_where_the_tree_says(dotted: str, parent: type[UserError]) -> None:
    assert issubclass(CLASSES[dotted], parent)


def test_the_branches() -> None:
    for branch in (ConfigError, MappingError, StoreError, ConflictError, CommandError):
        assert issubclass(branch, UserError)
    assert issubclass(SchemaOutdated, StoreError)
    assert issubclass(LeaseLost, ConflictError)
    assert errors.ConnectorError is ConnectorError  # the connector branch, re-exported
    assert ConnectorError in USER_ERRORS


def test_the_old_homes_name_the_same_classes() -> None:
    from handoff_sync.cli import sync
    from handoff_sync.config import errors as config_errors
    from handoff_sync.store import types

    assert config_errors.ConfigError is ConfigError
    assert (types.StoreError, types.SchemaOutdated, types.LeaseLost) == (
        StoreError, SchemaOutdated, LeaseLost)
    assert sync.CommandError is CommandError
    defined = sorted(name for name in CLASSES if name.endswith(".CommandError"))
    assert defined == ["handoff_sync.errors.CommandError"]  # one, not one per command


def test_a_hint_given_is_printed_after_the_message_and_a_family_hint_is_not() -> None:
    given = CommandError("no review item 'k'", hint="`handoff-sync review` lists them")
    assert str(given) == "no review item 'k'; `handoff-sync review` lists them"
    assert (given.message, given.hint) == ("no review item 'k'", "`handoff-sync review` "
                                                                 "lists them")
    plain = StoreError("cannot open the database sqlite:///x.db: disk I/O error")
    assert str(plain) == "cannot open the database sqlite:///x.db: disk I/O error"
    assert plain.hint == StoreError.hint


def test_exit_codes() -> None:
    from handoff_sync.sync.review_link import USAGE, LinkRefused

    assert exit_code_of(ConfigError("x")) == 1
    assert exit_code_of(LinkRefused("say which", USAGE)) == USAGE == 2
    assert exit_code_of(LinkRefused("linked elsewhere")) == 1
    assert exit_code_of(AuthError("refused", system="salesforce")) == 1
