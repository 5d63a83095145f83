"""The `handoff-sync` command line: parse, call, print. No business logic lives here.

Errors a person can fix (``handoff_sync.errors.USER_ERRORS``: every ``UserError`` and
every connector error) are caught here, once, for every command: one line on stderr,
``handoff-sync COMMAND: message``, and the error's exit code. A command catches one
itself only to say something else (or elsewhere) than that line.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from types import TracebackType

from handoff_sync import __version__
from handoff_sync.daemon.logs import configure_logging
from handoff_sync.errors import USER_ERRORS, exit_code_of
from handoff_sync.safety.local_files import disk_full_advice
from handoff_sync.safety.redaction import RedactingStream, redact

Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="handoff-sync",
        description=(
            "Keeps partner deal registrations (PRM) and CRM opportunities in step, gates each "
            "handoff and writes the verdict and follow-up tasks into Salesforce or HubSpot."
        ),
    )
    parser.add_argument("--version", action="version", version=f"handoff-sync {__version__}")
    parser.add_argument(
        "--log-level", default=None, choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: info; warning for a one-shot command on a terminal, "
             "whose printed summary says what happened)",
    )
    parser.add_argument(
        "--log-format", choices=["json", "console"], default=None,
        help="log line format (default: console on a terminal, JSON lines otherwise)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    from handoff_sync.cli.completion import add_completion_command
    from handoff_sync.cli.console import add_console_command
    from handoff_sync.cli.demo import add_demo_command
    from handoff_sync.cli.health import add_health_command
    from handoff_sync.cli.init import add_init_command
    from handoff_sync.cli.mappings import add_mappings_command
    from handoff_sync.cli.migrate import add_migrate_command
    from handoff_sync.cli.plan import add_plan_command
    from handoff_sync.cli.report import add_report_command
    from handoff_sync.cli.run import add_run_command
    from handoff_sync.cli.sandbox import add_sandbox_command
    from handoff_sync.cli.sync import add_sync_commands

    add_demo_command(commands)
    add_init_command(commands)
    add_migrate_command(commands)
    add_run_command(commands)
    add_health_command(commands)
    add_sync_commands(commands)
    add_plan_command(commands)
    add_report_command(commands)
    add_console_command(commands)
    add_mappings_command(commands)
    add_sandbox_command(commands)
    add_completion_command(commands, parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    func: Command = args.func
    # Every secret the command loads is registered with `redaction`; whatever it prints,
    # logs or leaves in a traceback passes through these streams and that hook.
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(stdout), RedactingStream(stderr)
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _redacted_traceback
    try:
        configure_logging(args.log_level or default_log_level(args.command, sys.stderr.isatty()),
                          args.log_format)
        return func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`handoff-sync ... | head`); silence the final flush too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        return 141
    except USER_ERRORS as exc:
        # The message says what to fix; a traceback would say nothing more to an operator.
        print(f"handoff-sync {args.command}: {exc}", file=sys.stderr)
        return exit_code_of(exc)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        where = str(exc.filename) if exc.filename else "its output"
        print(f"handoff-sync {args.command}: the disk is full: {disk_full_advice(where)}",
              file=sys.stderr)
        return 1
    finally:
        sys.stdout, sys.stderr = stdout, stderr


# Commands whose log lines are their output: the daemon and the sandbox server.
_LOGGING_COMMANDS = frozenset({"run", "sandbox"})


def default_log_level(command: str, terminal: bool) -> str:
    """info, except for a one-shot command (`sync`, `plan`, ...) whose person reads its
    printed summary on a terminal: there, a line per review item opened would bury it.
    Piped or under cron, every command keeps its info lines (JSON) for the log store."""
    return "warning" if terminal and command not in _LOGGING_COMMANDS else "info"


def _redacted_traceback(kind: type[BaseException], exc: BaseException,
                        tb: TracebackType | None) -> None:
    """An uncaught exception's traceback (a bug), with every known secret redacted."""
    stream = sys.__stderr__
    if stream is not None:
        stream.write(redact("".join(traceback.format_exception(kind, exc, tb))))


if __name__ == "__main__":
    sys.exit(main())
