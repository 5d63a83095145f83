"""`handoff-sync run`: the daemon (or, with --once, one leased cycle per pipeline for cron).

Thin: load the config, open the store, hand both to ``Daemon``. Exit codes: 0 after a
clean shutdown, 1 when a ``--once`` cycle failed or the database cannot be reached, 2
for a config or schema problem (the message says what to fix), 130 on a second signal.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from handoff_sync.cli.sync import config_argument
from handoff_sync.daemon.scheduler import EXIT_FAILED, EXIT_USAGE, Daemon, default_holder
from handoff_sync.store.types import StoreError


def add_run_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "run", help="run the sync daemon (scheduled cycles, health and metrics)",
        description="Run every enabled pipeline on its schedule: an incremental cycle every "
        "schedule.interval_seconds and a full reconcile on schedule.full_reconcile_cron. "
        "Serves /healthz, /readyz and /metrics on server.host:server.port (and the admin "
        "console there when console.enabled is true). SIGTERM finishes "
        "the batch in hand, records it and exits; a second signal exits at once.")
    config_argument(parser)
    parser.add_argument("--once", action="store_true",
                        help="run one cycle of each enabled pipeline (respecting other "
                             "replicas' leases), then exit: for cron instead of a daemon")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """The run command's own exit codes: 2 for what the operator must change first (the
    config, the schema, the port), 1 when the database cannot be reached."""
    from handoff_sync.config.load import load_config
    from handoff_sync.errors import ConfigError, SchemaOutdated
    from handoff_sync.store import Store
    from handoff_sync.sync.cycle import PipelineRunner

    try:
        config = load_config(args.config)
        store = Store.connect(config.database.url)
        holder = default_holder()

        def runner_factory(pipeline: Any) -> PipelineRunner:
            # Both retry a system they cannot connect to (a server restarting); only the
            # running daemon has a next cycle to promise. --once is cron's: it reports.
            return PipelineRunner(config, pipeline, store, holder=holder,
                                  daemon=not args.once, retry_connect=True)

        app_factory = None
        if config.console.enabled and not args.once:
            problem = console_problem(config)
            if problem is not None:
                store.close()
                return _fail(problem, EXIT_USAGE)
            from handoff_sync.console.app import daemon_app_factory

            app_factory = daemon_app_factory(config, store)
        daemon = Daemon(config, store, runner_factory, holder=holder, app_factory=app_factory)
        return daemon.run_once() if args.once else daemon.run_forever()
    except (ConfigError, SchemaOutdated) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except StoreError as exc:
        return _fail(str(exc), EXIT_FAILED)


def console_problem(config: Any) -> str | None:
    """Why the daemon must not serve the console on server.host (no login elsewhere than
    loopback), or None."""
    from handoff_sync.console.auth import bind_problem

    problem = bind_problem(config.console, config.server.host)
    if problem is None:
        return None
    return (f"console.enabled serves the console on server.host, and {problem} (or set "
            "console.enabled: false)")


def _fail(message: str, code: int) -> int:
    print(f"handoff-sync run: {message}", file=sys.stderr)
    return code
