"""`handoff-sync init`: write a daemon config file to start from.

Two ways in:
* ``init --out FILE`` writes the commented template for real orgs: every key with a
  comment, secrets as ``${VARS}`` to set before the first run.
* ``init --sandbox URL --out FILE`` writes a config that works at once against the loopback
  sandbox (`handoff-sync sandbox`): it fetches the sandbox's credentials and CA, keeps the
  secrets in files beside the config (``secrets/``, owner-only) and refers to them as
  ``{file: ...}``, so no secret is ever in the config file itself.

Either way the config connects the systems of a mapping pack (``--pack``, see
``config.packs``): which system is the PRM and which the CRM comes from the pack's files.
``--json`` prints what was written (files, pack, next commands) instead of the lines.

The sandbox's CA is not known before the first request, so that request skips TLS
verification; that is safe only on loopback, which is why other hosts are refused. A
second request, verified with the CA just received, proves the CA belongs to the server.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from handoff_sync.cli.completion import DIRECTORY, FILE, complete
from handoff_sync.config.init_files import DEFAULT_DATABASE, write_template
from handoff_sync.config.packs import DEFAULT_PACK, shipped_packs
from handoff_sync.demo.sandbox_config import write_sandbox_config
from handoff_sync.errors import ConfigError


def add_init_command(commands: Any) -> None:
    packs = shipped_packs()
    listed = "; ".join(f"{name}: {pack.describe()}" for name, pack in packs.items())
    parser: argparse.ArgumentParser = commands.add_parser(
        "init", help="write a daemon config file (a commented template, or one for the sandbox)",
        description="Write a daemon config file. Without --sandbox: a commented template for "
                    "real orgs, secrets as ${VARS} to set. With --sandbox URL: a config that "
                    "works at once against the loopback sandbox, with its CA (ca.pem) and "
                    "secrets (secrets/, owner-only) beside the config. Either way its "
                    "connections are the systems of the mapping pack (--pack).")
    complete(parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                                 help="the config file to write, e.g. handoff-sync.yaml"), FILE)
    parser.add_argument("--sandbox", metavar="URL", default=None,
                        help="the loopback sandbox's URL as `handoff-sync sandbox` prints it, "
                             "e.g. https://127.0.0.1:8765")
    # choices: argparse names the shipped packs when given another, and the shell
    # completes them; an installation without mappings/ has none to offer.
    parser.add_argument(
        "--pack", metavar="NAME", default=None, choices=list(packs) or None,
        help=f"the mapping pack whose systems to connect and whose mappings to use, of "
             f"those shipped: {listed or 'none'} (default: the one --mappings DIR holds, "
             f"else {DEFAULT_PACK})")
    complete(parser.add_argument(
        "--mappings", type=Path, default=None, metavar="DIR",
        help="the mappings folder (default: ./mappings next to FILE; with --sandbox, the "
             "pack's folder shipped with handoff-sync)"), DIRECTORY)
    parser.add_argument("--database", default=None, metavar="URL",
                        help=f"database URL (default: {DEFAULT_DATABASE}, next to FILE)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite files that already exist")
    parser.add_argument("--json", action="store_true",
                        help="print the files written, the pack and the next commands as JSON")
    parser.set_defaults(func=run_init)


def run_init(args: argparse.Namespace) -> int:
    try:
        if args.sandbox is None:
            result = write_template(args.out, force=args.force, pack=args.pack,
                                    mappings=args.mappings, database=args.database)
        else:
            result = write_sandbox_config(args.sandbox, args.out, force=args.force,
                                          pack=args.pack, mappings=args.mappings,
                                          database=args.database)
    except ConfigError as exc:  # not the one line cli.main prints: the config was written
        print(exc, file=sys.stderr)
        print(f"handoff-sync init: the config written to {args.out} does not load; fix the "
              "problems above (or the options given) and run init again with --force",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result.as_dict(), indent=2, sort_keys=True))
    else:
        print("\n".join(result.lines))
    return 0
