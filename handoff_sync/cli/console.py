"""`handoff-sync console`: the admin web console on its own (against the daemon's database),
and `handoff-sync console hash-password` for the users' argon2 hashes.

The daemon serves the same console on its server port when ``console.enabled`` is true;
this command is for a console on another host or port, or next to `run --once` under cron.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from handoff_sync.cli.sync import config_argument
from handoff_sync.errors import CommandError


def add_console_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "console", help="serve the admin web console (or print a password hash for it)",
        description="Serve the admin console (sync health, review queue, mappings and "
        "gates with a what-if, reports) on console.host:console.port, reading and writing "
        "the config's database and mappings folders. `console hash-password` reads a "
        "password (prompted, or one line on stdin) and prints the argon2 hash to put in "
        "console.users[].password_hash.")
    config_argument(parser)
    parser.add_argument("action", nargs="?", choices=["serve", "hash-password"],
                        default="serve", help="serve (the default) or hash-password")
    parser.add_argument("--host", metavar="ADDRESS",
                        help="listen here instead of console.host")
    parser.add_argument("--port", type=int, metavar="PORT",
                        help="listen here instead of console.port (0: a free port)")
    parser.set_defaults(func=run_console)


def run_console(args: argparse.Namespace) -> int:
    if args.action == "hash-password":
        return _hash_password()
    return _serve(args)


def _hash_password() -> int:
    from handoff_sync.console.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the two passwords differ; nothing printed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        raise CommandError("a console password needs at least 8 characters")
    print(hash_password(password))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from handoff_sync.config.load import load_config
    from handoff_sync.console.app import create_app
    from handoff_sync.console.auth import bind_problem, is_loopback
    from handoff_sync.console.context import ConsoleContext
    from handoff_sync.daemon.asgi import AsgiServer
    from handoff_sync.store import Store

    config = load_config(args.config)
    host = args.host or config.console.host
    port = config.console.port if args.port is None else args.port
    problem = bind_problem(config.console, host)
    if problem is not None:
        raise CommandError(problem)
    store = Store.connect(config.database.url)
    try:
        store.require_current_schema()
        app = create_app(ConsoleContext(config, store), local=is_loopback(host))
        try:
            server = AsgiServer(app, host, port)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): "
                               "choose another port or stop what holds it") from None
        print(f"handoff-sync console on {server.url}/ (Ctrl-C stops it)", flush=True)
        server.serve_forever()
    finally:
        store.close()
    return 0
