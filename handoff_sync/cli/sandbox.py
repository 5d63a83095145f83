"""`handoff-sync sandbox`: serve the loopback Salesforce + HubSpot until told to stop."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import structlog

from handoff_sync.cli.completion import FILE, complete
from handoff_sync.sandbox.core.loopback import CONTROL_TOKEN_ENV, is_loopback
from handoff_sync.sandbox.server import ControlTokenRequired, SandboxServer

log = structlog.get_logger("handoff_sync.sandbox")


def add_sandbox_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "sandbox",
        help="serve a loopback Salesforce + HubSpot emulator (no credentials, no network)",
        description=(
            "Serve the Salesforce REST and HubSpot CRM v3 subsets handoff-sync uses, over "
            "HTTPS on loopback with a CA generated at start. Runs until SIGTERM or Ctrl-C; "
            "state is in memory. The control plane is under /__sandbox__/ "
            "(credentials, reset, seed, faults, stats, clock)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0 = any)")
    parser.add_argument("--control-token", default=None,
                        help="token every /__sandbox__/ request must carry as 'Authorization: "
                             "Bearer <token>'; required with a --host beyond loopback "
                             f"(default: ${CONTROL_TOKEN_ENV}, which keeps it out of ps)")
    parser.add_argument("--seed", choices=["demo", "empty"], default="demo",
                        help="start with a generated org pair (demo) or no data (empty)")
    parser.add_argument("--deals", type=_non_negative, default=500,
                        help="deal scenarios to generate with --seed demo (default: 500)")
    parser.add_argument("--partners", type=_positive, default=12,
                        help="partner companies to generate with --seed demo (default: 12)")
    parser.add_argument("--random-seed", type=_non_negative, default=42,
                        help="generator seed; same seed, same data (default: 42)")
    complete(parser.add_argument("--ca-out", type=Path, default=None, metavar="FILE",
                                 help="also write the CA certificate (PEM) to this file"), FILE)
    parser.set_defaults(func=run_sandbox)


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("expected a whole number >= 0")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected a whole number >= 1")
    return value


def _describe_counts(deals: int, partners: int, counts: dict[str, int]) -> str:
    """'500 deal scenarios, 12 partners' plus the records made in each system."""
    lines = [f"{deals} deal scenarios across {partners} partners"]
    for system in ("salesforce", "hubspot"):
        made = ", ".join(f"{name.split('.', 1)[1]} {count}"
                         for name, count in sorted(counts.items())
                         if name.startswith(system + "."))
        lines.append(f"{'':19}{system}: {made}")
    return "\n".join(lines)


def run_sandbox(args: argparse.Namespace) -> int:
    token = args.control_token or os.environ.get(CONTROL_TOKEN_ENV) or None
    try:
        server = SandboxServer(args.host, args.port, ca_out=args.ca_out, control_token=token)
    except ControlTokenRequired as exc:
        print(f"handoff-sync sandbox: refusing to start: {exc}.", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"handoff-sync sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror}. "
              "Pick another --port (0 picks a free one).")
        return 1
    if not is_loopback(args.host):
        log.warning("sandbox_not_loopback", host=args.host,
                    hint="the control plane answers only requests carrying the control token")
    sandbox = server.sandbox
    if args.seed == "demo":
        counts = sandbox.seed(deals=args.deals, partners=args.partners,
                              random_seed=args.random_seed)
        seeded = _describe_counts(args.deals, args.partners, counts)
    else:
        seeded = "empty"
    creds = sandbox.credentials
    print(
        f"handoff-sync sandbox listening on {server.base_url}\n"
        f"  CA certificate : {server.ca_file}\n"
        f"  seeded         : {seeded}\n"
        f"  Salesforce     : instance_url={server.base_url} api_version=59.0\n"
        f"                   username={creds.sf_username} password={creds.sf_password} "
        f"security_token={creds.sf_security_token}\n"
        f"                   client_id={creds.sf_client_id} "
        f"client_secret={creds.sf_client_secret}\n"
        f"                   session_id={creds.sf_session_id}\n"
        f"  HubSpot        : host={server.base_url} access_token={creds.hs_access_token}\n"
        f"  Control plane  : {server.base_url}/__sandbox__/credentials (also: reset, seed, "
        "faults, stats, clock)\n"
        "Press Ctrl-C (or send SIGTERM) to stop.",
        flush=True,
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    server.start()
    try:
        stop.wait()
    finally:
        server.stop()
    print("handoff-sync sandbox stopped.", flush=True)
    return 0
