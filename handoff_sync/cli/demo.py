"""`handoff-sync demo`: the whole job in one command, on a loopback sandbox.

Thin: parse, draw progress bars on stderr, run ``demo.Demo``, print its summary on stdout;
with --keep-running, start the daemon's scheduler and health server and wait for Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from handoff_sync.cli.completion import DIRECTORY, complete
from handoff_sync.demo.sandbox_config import CA_FILE
from handoff_sync.demo.scenario import (
    CONFIG_FILE,
    DEFAULT_FOLDER,
    Demo,
    DemoOptions,
    render_summary,
)
from handoff_sync.sandbox.control import (
    MAX_RANDOM_SEED,
    MAX_SEED_DEALS,
    MAX_SEED_PARTNERS,
)

WAIT_POLL_SECONDS = 0.2


def add_demo_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "demo", help="see the whole job in a minute: a sandbox org pair, a few sync cycles, "
                     "a report",
        description="Start the loopback sandbox with a seeded partner program (HubSpot "
        "registrations, Salesforce opportunities), write a config and a SQLite database into "
        "a new folder, run the daemon for a few cycles while partners and AEs edit deals and "
        "time moves on, then say what happened in CRM terms and where the HTML report is. "
        "No credentials, no network.")
    complete(parser.add_argument("--dir", type=Path, default=DEFAULT_FOLDER, metavar="DIR",
                                 help="the folder to create for the config, database and "
                                      f"report (default: ./{DEFAULT_FOLDER}; must be new or "
                                      "empty)"), DIRECTORY)
    parser.add_argument("--deals", type=_up_to(MAX_SEED_DEALS, least=1), default=500,
                        help="deal scenarios to seed (default: 500)")
    parser.add_argument("--partners", type=_up_to(MAX_SEED_PARTNERS, least=1), default=12,
                        help="partner companies to seed (default: 12)")
    parser.add_argument("--cycles", type=_positive, default=5,
                        help="sync cycles to run; people edit deals between two cycles "
                             "(default: 5: the first sync, then partners fill registrations, "
                             "AEs work, a week passes, AEs answer escalations)")
    parser.add_argument("--random-seed", type=_up_to(MAX_RANDOM_SEED, least=0), default=42,
                        help="seed for the data and the edits; same seed, same story "
                             "(default: 42)")
    parser.add_argument("--force", action="store_true",
                        help="run in DIR even though it is not empty (its database starts "
                             "over)")
    parser.add_argument("--keep-running", action="store_true",
                        help="afterwards, leave the sandbox and the daemon running until "
                             "Ctrl-C, to poke at both")
    parser.set_defaults(func=run_demo)


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected a whole number >= 1")
    return value


def _up_to(most: int, *, least: int) -> Callable[[str], int]:
    """A whole number the sandbox's control plane accepts (it seeds over HTTP)."""
    def parse(text: str) -> int:
        value = _whole(text)
        if not least <= value <= most:
            raise argparse.ArgumentTypeError(f"expected a whole number from {least} to {most}")
        return value
    return parse


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None


class _Bars:
    """The demo's phases as a rich progress bar on stderr."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
            BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console)
        self._task: TaskID | None = None
        self._begun = False

    def start(self, total: int) -> None:
        self._progress.start()
        self._task = self._progress.add_task("handoff-sync demo", total=total)

    def phase(self, description: str) -> None:
        assert self._task is not None
        self._progress.update(self._task, description=description,
                              advance=1 if self._begun else 0)
        self._begun = True

    def finish(self) -> None:
        if self._task is not None:
            self._progress.update(self._task, description="done", advance=1)
        self.stop()

    def stop(self) -> None:
        self._progress.stop()


def run_demo(args: argparse.Namespace) -> int:
    from handoff_sync.daemon.logs import configure_logging

    if args.log_level is None:
        # Cycle log lines would drown the progress bars; the summary says it all.
        configure_logging("warning", args.log_format)
    options = DemoOptions(folder=args.dir, deals=args.deals, partners=args.partners,
                          cycles=args.cycles, random_seed=args.random_seed, force=args.force)
    bars = _Bars(Console(stderr=True))
    with Demo(options, progress=bars) as demo:
        try:
            result = demo.run()
        except BaseException:  # a DemoError too: cli.main prints it, under no bar
            bars.stop()
            raise
        print("\n".join(render_summary(result)), flush=True)
        if args.keep_running:
            return _keep_running(demo, args.dir)
    return 0


def _keep_running(demo: Demo, folder: Path) -> int:
    """Serve the sandbox and run the daemon on its schedule until SIGTERM or Ctrl-C."""
    assert demo.daemon is not None and demo.server is not None
    try:
        demo.daemon.start()
    except OSError as exc:
        print(f"handoff-sync demo: cannot start the daemon's health server: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    server, health = demo.server, demo.daemon.health_url
    config = folder.resolve() / CONFIG_FILE
    print("\n".join([
        "",
        "Still running (the daemon syncs every few seconds):",
        f"  sandbox:  {server.base_url} (Salesforce and HubSpot APIs; credentials at "
        f"{server.base_url}/__sandbox__/credentials, CA in {folder.resolve() / CA_FILE})",
        f"  console:  {health}/ (sync health, review queue, mappings, policy, reports)",
        f"  health:   {health}/healthz   metrics: {health}/metrics",
        f"  try:      handoff-sync status --config {config}",
        "Press Ctrl-C (or send SIGTERM) to stop the daemon and the sandbox.",
    ]), flush=True)
    _wait_for_signal()
    print("handoff-sync demo: stopping.", flush=True)
    return 0


def _wait_for_signal() -> None:
    stop = threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        def on_signal(signum: int, _frame: object) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM,
                                                                     signal.SIGINT)}
    try:
        # Sleep, not Event.wait alone: a signal handler must only set a flag.
        while not stop.is_set():
            time.sleep(WAIT_POLL_SECONDS)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
