"""`handoff-sync migrate`: create the state store's tables, or bring them up to date.

The daemon never changes the schema itself (two replicas upgrading at once, or a new
version silently rewriting a production database, are not things to do implicitly); it
refuses to start on an old schema and names this command.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff_sync.cli.completion import FILE, complete
from handoff_sync.cli.config_path import FALLBACK_CONFIG, default_config, default_config_help
from handoff_sync.cli.output import print_json
from handoff_sync.errors import UserError
from handoff_sync.store import Store, redact_url

DEFAULT_DATABASE_URL = "sqlite:///handoff-sync.db"


def add_migrate_command(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "migrate", help="create or upgrade the state store's tables",
        description=__doc__.splitlines()[0] + " The database is --database, else the one "
        f"the config file names (--config, default {default_config_help()} if it exists), else "
        f"{DEFAULT_DATABASE_URL}. Safe to run again: a current database is left as it is.")
    complete(parser.add_argument("--config", type=Path, metavar="FILE",
                                 help="the daemon config whose database to migrate (default: "
                                      f"{default_config_help()} if it exists)"), FILE)
    parser.add_argument("--database", metavar="URL",
                        help="the database URL (overrides the config file), e.g. "
                             "sqlite:///var/lib/handoff-sync/state.db or "
                             "postgresql://user@host:5432/handoff")
    parser.add_argument("--json", action="store_true",
                        help="print {database, from, to, applied, changed} as JSON")
    parser.set_defaults(func=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    try:
        url = database_url(args.database, args.config)
        result = migrate_database(url)
    except UserError as exc:  # on stdout, as migrate always said it (not cli.main's stderr)
        print(f"handoff-sync migrate: {exc}", file=sys.stderr if args.json else sys.stdout)
        return 1
    if args.json:
        print_json(result.as_dict())
    else:
        print(result.line())
    return 0


def database_url(database: str | None, config: Path | None) -> str:
    """--database, else the config file's (--config, or $HANDOFF_SYNC_CONFIG, or
    ./handoff-sync.yaml when it exists), else the default SQLite file."""
    if database:
        return database
    if config is None:
        config = default_config()
        # A config named by the environment must exist (the image sets one); the
        # ./handoff-sync.yaml fallback is optional.
        if config == FALLBACK_CONFIG and not config.is_file():
            return DEFAULT_DATABASE_URL
    # Imported here: `migrate --database` needs nothing of the config layer.
    from handoff_sync.config.load import load_config

    return str(load_config(config).database.url)


@dataclass(frozen=True, slots=True)
class Migration:
    """What `migrate` did to one database: its revision before and after, and the
    revisions applied in between (none when it was current)."""

    database: str  # the URL, password redacted
    before: str | None  # None: no handoff-sync tables yet
    applied: tuple[str, ...]  # revision labels, e.g. 0001_initial, oldest first
    after: str | None

    def line(self) -> str:
        where = f"database {self.database}"
        if not self.applied:
            return f"{where}: already at {self.before}"
        return (f"{where}: migrated {self.before or '(empty)'} -> {self.after} "
                f"(applied: {', '.join(self.applied)})")

    def as_dict(self) -> dict[str, Any]:
        return {"database": self.database, "from": self.before, "to": self.after,
                "applied": list(self.applied), "changed": bool(self.applied)}


def migrate_database(url: str) -> Migration:
    """Migrate the database to this version's schema."""
    with Store.connect(url) as store:
        before = store.schema_revision()
        applied = store.migrate()
    return Migration(redact_url(url), before,
                     tuple(Store.revision_label(revision) for revision in applied),
                     applied[-1] if applied else before)
