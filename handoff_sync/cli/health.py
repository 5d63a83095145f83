"""`handoff-sync health`: ask the running daemon whether it is ready, as a probe would.

For a container's HEALTHCHECK or a Kubernetes exec probe: it reads the port from the same
config the daemon runs with (so the probe follows `server.port`), asks ``/readyz`` (or
``/healthz`` with ``--live``) and exits 0 when the answer is 200, 1 otherwise with the
daemon's own reason on one line.
"""

from __future__ import annotations

import argparse
import http.client
import json
from typing import Any

from connectors.error_table import endpoint
from handoff_sync.cli.sync import config_argument
from handoff_sync.safety.sanitise import for_terminal

PROBE_TIMEOUT_SECONDS = 4.0
# A daemon listening on every address is reached on loopback from inside its own host.
_ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def add_health_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "health", help="probe the running daemon's /readyz (exit 0 when ready)",
        description=__doc__.splitlines()[0] + " Exit 0 when it answers 200, 1 otherwise.")
    config_argument(parser)
    parser.add_argument("--live", action="store_true",
                        help="ask /healthz (the process serves) instead of /readyz (the "
                             "database answers, the schema is current, no pipeline keeps "
                             "failing)")
    parser.add_argument("--json", action="store_true",
                        help='print {"ok", "status", "url", "answer"} as JSON')
    parser.set_defaults(func=run_health)


def run_health(args: argparse.Namespace) -> int:
    from handoff_sync.config.load import load_config

    server = load_config(args.config).server
    path = "/healthz" if args.live else "/readyz"
    host = _ANY_ADDRESS.get(server.host, server.host)
    url = f"http://{endpoint(host, server.port)}{path}"
    if server.port == 0:
        status, answer = None, ("server.port is 0 (a free port picked at start), so no "
                                "probe can find it: set a fixed server.port in the config")
    else:
        status, answer = probe(host, server.port, path)
    ok = status == 200
    if args.json:
        print(json.dumps({"ok": ok, "status": status, "url": url, "answer": answer}))
    else:
        print(for_terminal(f"{url}: {answer}" if ok or status is not None
                           else f"{url}: no answer: {answer}"))
    return 0 if ok else 1


def probe(host: str, port: int, path: str) -> tuple[int | None, str]:
    """(HTTP status, first line of the body), or (None, why nothing answered)."""
    connection = http.client.HTTPConnection(host, port, timeout=PROBE_TIMEOUT_SECONDS)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read(2000).decode("utf-8", "replace").strip()
        return response.status, (body.splitlines()[0] if body else response.reason)
    except ConnectionRefusedError:
        return None, ("connection refused: is `handoff-sync run` running with this config, "
                      "and is server.port the port it listens on?")
    except TimeoutError:
        return None, f"no answer within {PROBE_TIMEOUT_SECONDS:g} s: the daemon is stuck or busy"
    except OSError as exc:
        return None, f"cannot connect ({exc.strerror or exc}): check server.host in the config"
    finally:
        connection.close()
