"""The one error tree: every problem a person can fix is a ``UserError`` with a hint.

    UserError                  a message (what is wrong) and a hint (what to do)
    ├── ConfigError            the daemon's config file is missing or invalid
    │   └── SecretError        (config.secrets) a secret it names cannot be used
    ├── MappingError           the mappings folder is invalid; ``problems`` lists why
    ├── StoreError             the database cannot be reached or refused an operation
    │   └── SchemaOutdated     the database is not at this version's schema revision
    ├── ConflictError          someone else holds what the command needs
    │   ├── LeaseLost          another replica holds the pipeline's lease
    │   └── LinkRefused        (sync.review_link) the link cannot or may not be made
    ├── CommandError           a command cannot run as asked
    │   ├── InputError         (cli.mappings) an input file it was given cannot be used
    │   └── NoSuchDeal         (cli.plan_view) `plan --deal` matched no deal (exit 2)
    ├── ReportError            (report.source) the store has nothing to report yet
    ├── InitError              (config.init_files) init wrote nothing
    ├── DemoError              (demo.scenario) the demo stopped
    └── GeneratorError         (demo.people) a system refused one of the demo's own edits
                               (a bug in the demo; demo.scenario imports demo.people)

    ConnectorError             (connectors.errors, re-exported here) a system refused or
                               failed: the connector branch of the tree

The connector branch cannot subclass ``UserError``: connectors/ imports nothing of
handoff_sync, so its base class is its own. It counts as a user error by being listed
beside ``UserError`` in ``USER_ERRORS``, the one tuple the command line catches (``except
USER_ERRORS``) and the daemon treats as expected (no traceback). A connector's message
already says what to change (``connectors.errors``: a FatalError's message names the
action). ``abc.register`` would not do: ``except`` matches real subclasses only.

What is printed is ``str(error)``. A hint passed to the constructor is part of it:
``CommandError("no item 'k'", hint="`handoff-sync review` lists them")`` prints
``no item 'k'; `handoff-sync review` lists them``. Without one, ``hint`` is the class's
advice for its family and is not printed: the messages raised before this tree existed
already end in their own advice, and what users see stays byte-identical.

Only classes live here, and connectors.errors: the engine must import neither (the
engine-purity contract forbids connectors), so nothing the engine reaches (model,
problems, mapping below its loader) imports this module; that is why MappingError lives
here and not beside ``problems.report.Problem``.

Not in the tree, on purpose: exceptions that never reach a person because the code that
raises them catches them (``sync.cycle.CycleFailed``, ``sync.pull.PullStopped``,
``problems.pydantic_errors.KeyProblems`` and ``mapping.system.transforms.ValueProblem``,
which pydantic and the converters turn into problems), and ``connectors.errors.
StopRequested``, which is not a failure at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from connectors.errors import ConnectorError

__all__ = [
    "USER_ERRORS",
    "CommandError",
    "ConfigError",
    "ConflictError",
    "ConnectorError",
    "LeaseLost",
    "MappingError",
    "SchemaOutdated",
    "StoreError",
    "UserError",
    "exit_code_of",
]


class UserError(Exception):
    """A problem the person running handoff-sync can fix: the message says what is wrong,
    ``hint`` what to do; the command line prints it as one line (no traceback)."""

    hint: str = "fix what the message names, then run the command again"
    exit_code: int = 1  # what the command exits with when this error stops it

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(f"{message}; {hint}" if hint else message)
        self.message = message
        if hint:
            self.hint = hint


class ConfigError(UserError):
    """The config file is missing or invalid; ``str()`` is ready to print as it is."""

    hint = "fix the config file where each problem points (line and key), then run again"

    def __init__(self, message: str, problems: Sequence[_Located] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    @classmethod
    def from_problems(cls, file: object, problems: Sequence[_Located]) -> ConfigError:
        ordered = sorted(set(problems), key=lambda p: p.sort_key)
        count = f"{len(ordered)} problem{'s' if len(ordered) != 1 else ''}"
        return cls("\n".join([f"{file}: {count}", *map(str, ordered)]), ordered)


class MappingError(UserError):
    """The mappings folder (or one file in it) is invalid; ``problems`` lists why."""

    hint = ("fix each problem at its file:line; `handoff-sync mappings validate` checks the "
            "folder again")

    def __init__(self, problems: Sequence[_Located]) -> None:
        self.problems: tuple[_Located, ...] = tuple(sorted(problems, key=lambda p: p.sort_key))
        files = {p.file for p in self.problems}
        summary = (f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''} "
                   f"in {len(files)} file{'s' if len(files) != 1 else ''}")
        super().__init__("\n".join([*map(str, self.problems), summary]))


class StoreError(UserError):
    """The database cannot be reached or refused an operation; the message says which."""

    hint = "check database.url in the config and that the database is reachable"


class SchemaOutdated(StoreError):
    """The database is not at the schema revision this version of handoff-sync needs."""

    hint = "run `handoff-sync migrate`"


class ConflictError(UserError):
    """Someone else holds what the command needs: another replica, another registration."""

    hint = "wait for the other holder to finish, or resolve the conflict as the message says"


class LeaseLost(ConflictError):
    """Another replica holds the pipeline's lease: this replica must not record its cycle."""

    hint = ("let the other replica's cycle finish; a killed run's lease expires after "
            "schedule.lease_seconds")


class CommandError(UserError):
    """A command cannot run as asked; the message is ready for people."""

    hint = "`handoff-sync COMMAND --help` lists what the command needs"


USER_ERRORS: tuple[type[Exception], ...] = (UserError, ConnectorError)
"""What a person can fix: caught once by the command line, logged without a traceback."""

def exit_code_of(error: BaseException) -> int:
    """The exit code a command ends with when ``error`` stops it."""
    return error.exit_code if isinstance(error, UserError) else 1


class _Located(Protocol):
    """A problem at a place in a file (``problems.report.Problem``, ``ConfigProblem``)."""

    @property
    def file(self) -> object: ...

    @property
    def sort_key(self) -> tuple[object, ...]: ...
