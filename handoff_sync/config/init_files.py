"""The files `handoff-sync init` writes: the commented template for real orgs, and the
file helpers the sandbox config shares (the pack chosen, refuse to overwrite, secrets
owner-only, what was written as text and as data)."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handoff_sync.config.packs import (
    DEFAULT_PACK,
    Pack,
    installed_default,
    read_pack,
    shipped_packs,
)
from handoff_sync.config.template import WRITTEN_SYSTEMS, render_template, variables
from handoff_sync.errors import UserError

DEFAULT_DATABASE = "sqlite:///handoff-sync.db"


class InitError(UserError):
    """Why init wrote nothing (or stopped); one line, ready to print."""

    hint = "pass --force to overwrite files that exist, or fix what the message names"


@dataclass(frozen=True, slots=True)
class Written:
    """One file init wrote: its path and what it is (config, ca, secret)."""

    path: Path
    kind: str


@dataclass(frozen=True, slots=True)
class InitResult:
    """What init wrote, as the lines it prints and as data (`init --json`)."""

    lines: tuple[str, ...]
    config: Path
    pack: Pack
    mappings: Path  # the folder the config's pipeline names
    database: str
    files: tuple[Written, ...]
    next_commands: tuple[str, ...]
    sandbox: str | None = None
    variables: tuple[str, ...] = ()  # environment variables to set before the first run
    notes: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        sides = {side: {"connection": side, "system": getattr(self.pack, side).system,
                        "object": getattr(self.pack, side).object} for side in ("prm", "crm")}
        return {"config": str(self.config), "pack": self.pack.name or None, **sides,
                "mappings": str(self.mappings), "database": self.database,
                "sandbox": self.sandbox,
                "written": [{"path": str(f.path), "kind": f.kind} for f in self.files],
                "variables": list(self.variables), "next": list(self.next_commands),
                "notes": list(self.notes)}


def choose_pack(name: str | None, mappings: Path | None) -> Pack:
    """The pack whose systems the config connects: ``name``'s (a shipped pack), else the
    one ``mappings`` holds when it says its sides, else the default pack. InitError for
    an unknown name, or a ``mappings`` folder that maps other systems than ``name``."""
    packs = shipped_packs()
    packs.setdefault(DEFAULT_PACK, installed_default())
    if name is not None and name not in packs:
        known = ", ".join(packs)
        raise InitError(f"no mapping pack named {name!r}; the packs: {known}",
                        hint="pass one of them to --pack")
    given = None
    if mappings is not None:
        shipped = {pack.folder.resolve(): pack for pack in packs.values()}
        given = shipped.get(mappings.resolve()) or read_pack("", mappings)
    if name is None:
        if given is not None:
            return _writable(given)
        return packs[DEFAULT_PACK]
    pack = packs[name]
    if given is not None and (given.prm.system, given.crm.system) != (pack.prm.system,
                                                                      pack.crm.system):
        raise InitError(f"{mappings} maps {given.describe()}, but pack {name} connects "
                        f"{pack.describe()}; drop --pack (the folder's systems are used) or "
                        "pass a folder of that pack")
    return _writable(pack)


def _writable(pack: Pack) -> Pack:
    for side in (pack.prm, pack.crm):
        if side.system not in WRITTEN_SYSTEMS:
            raise InitError(f"init writes connections for Salesforce and HubSpot; the "
                            f"mappings in {pack.folder} map {side.system}: copy its "
                            "connection from the template's commented example")
    return pack


def sides(pack: Pack) -> dict[str, str]:
    """side -> system of ``pack``, as the templates take it."""
    return {"prm": pack.prm.system, "crm": pack.crm.system}


# --- the template for real orgs -------------------------------------------------------

def write_template(out: Path, *, force: bool = False, pack: str | None = None,
                   mappings: Path | None = None, database: str | None = None) -> InitResult:
    """Write the commented template with connections for ``pack``'s systems."""
    chosen = choose_pack(pack, mappings)
    refuse_existing([out], force)
    shown = str(mappings.resolve()) if mappings is not None else "./mappings"
    write(out, render_template(mappings=shown, database=database or DEFAULT_DATABASE,
                               sides=sides(chosen)))
    folder = mappings.resolve() if mappings is not None else out.resolve().parent / "mappings"
    config = shlex.quote(str(out))
    needed = variables(sides(chosen))
    commands = (f"handoff-sync mappings validate --mappings {shlex.quote(str(folder))}",
                f"handoff-sync migrate --config {config}",
                f"handoff-sync sync --config {config}")
    lines = (
        f"wrote {out}: a commented config template for real orgs, {chosen.label()}",
        f"next: set {', '.join(needed[:-1])} and {needed[-1]} (or point the secrets "
        "at files with {file: PATH}), review every key,",
        f"      put the mappings in {folder} (to start from: {chosen.folder}) and check "
        f"them: {commands[0]}",
        f"      {commands[1]}",
        f"      {commands[2]}",
    )
    return InitResult(lines, out, chosen, folder, database or DEFAULT_DATABASE,
                      (Written(out, "config"),), commands, variables=needed,
                      notes=(f"put the mappings in {folder} (to start from: "
                             f"{chosen.folder})",))


# --- files ------------------------------------------------------------------------------

def refuse_existing(files: list[Path], force: bool) -> None:
    for file in files:
        if file.is_dir():
            raise InitError(f"{file} is a folder; --out takes a file name, e.g. "
                            f"{file / 'handoff-sync.yaml'}")
    existing = [str(f) for f in files if f.exists()]
    if existing and not force:
        raise InitError(f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}"
                        "; pass --force to overwrite")


def write(file: Path, text: str) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text, encoding="utf-8")


def write_secret(file: Path, value: str) -> None:
    """Write ``value`` readable by the owner only, whatever the umask or an older file."""
    descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value.strip() + "\n")
