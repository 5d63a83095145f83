"""The files `handoff-sync init` writes: the commented template for real orgs, and the
file helpers the sandbox config shares (refuse to overwrite, secrets owner-only)."""

from __future__ import annotations

import os
import shlex
import site
import sys
from pathlib import Path

import handoff_sync
from handoff_sync.config.template import render_template
from handoff_sync.errors import UserError

DEFAULT_DATABASE = "sqlite:///handoff-sync.db"


class InitError(UserError):
    """Why init wrote nothing (or stopped); one line, ready to print."""

    hint = "pass --force to overwrite files that exist, or fix what the message names"


def default_mappings() -> Path:
    """The shipped mappings folder: the checkout's beside the package (a source or
    editable install), else the copy an install puts in <prefix>/share/handoff-sync
    (setup.cfg's data_files: pip install ., pipx, the Docker image)."""
    checkout = Path(handoff_sync.__file__).resolve().parent.parent / "mappings"
    if checkout.is_dir():
        return checkout
    for prefix in (sys.prefix, site.getuserbase()):  # a venv or system install; --user
        installed = Path(prefix) / "share" / "handoff-sync" / "mappings"
        if installed.is_dir():
            return installed
    return checkout  # the caller's "does not exist" names it


# --- the template for real orgs -------------------------------------------------------

def write_template(out: Path, *, force: bool = False, mappings: Path | None = None,
                   database: str | None = None) -> list[str]:
    """Write the commented template; returns the lines to print."""
    refuse_existing([out], force)
    shown = str(mappings.resolve()) if mappings is not None else "./mappings"
    write(out, render_template(mappings=shown, database=database or DEFAULT_DATABASE))
    folder = mappings.resolve() if mappings is not None else out.resolve().parent / "mappings"
    config = shlex.quote(str(out))
    return [
        f"wrote {out}: a commented config template for real orgs",
        "next: set SF_CLIENT_ID, SF_USERNAME, SF_JWT_KEY and HUBSPOT_ACCESS_TOKEN (or point "
        "the secrets at files with {file: PATH}), review every key,",
        f"      put the mappings in {folder} (to start from: {default_mappings()}) and check "
        f"them: handoff-sync mappings validate --mappings {shlex.quote(str(folder))}",
        f"      handoff-sync migrate --config {config}",
        f"      handoff-sync sync --once --config {config}",
    ]


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
