"""A proposed change to a mappings folder: checked exactly as `mappings validate` checks
it, shown as a diff, and saved (atomically, with an audit entry) only when valid.

The check runs on a copy of the folder in a temporary directory with the changed files
written in, so the real folder is never touched by a change that fails; the problems come
back naming the real files, with the key path of each (for the form field it belongs to).
A save refuses when a file changed on disk since the draft was made (someone else saved,
or an admin edited it by hand): the admin reloads and sees the current text.
"""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from handoff_sync.console.yaml_edit import Change, apply
from handoff_sync.errors import UserError
from handoff_sync.mapping.loader import validate_mappings
from handoff_sync.mapping.mapping_set import MappingSet
from handoff_sync.problems.report import Problem
from handoff_sync.safety import redaction

LOCK_FILE = ".handoff-edit.lock"  # a dotfile: the draft check and the folder hash skip it
LOCK_WAIT = 30.0  # seconds a save waits for another one to finish
LOCK_POLL = 0.05
log = logging.getLogger(__name__)


class SaveConflict(UserError):
    """A file of the draft changed on disk after the draft was made."""

    hint = "reload the page to start from the file as it is now"


class InvalidDraft(UserError):
    """A draft with problems cannot be saved."""

    hint = "fix the fields the problems name (the same checks as `mappings validate`)"


class AuditFailed(UserError):
    """The files were saved, but the audit row was not written."""

    hint = "check the database (`handoff-sync status`); the saved change is in the files"


class AuditLog(Protocol):
    def record_mapping_edit(self, folder: str, *, at: datetime, by: str, summary: str,
                            diff: Mapping[str, str]) -> int: ...


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Draft:
    """New texts for some files of ``folder``, against the digests they had when read."""

    folder: Path
    texts: dict[str, str] = field(default_factory=dict)  # file name -> proposed text
    read_digests: dict[str, str] = field(default_factory=dict)  # file name -> as read

    def current(self, name: str) -> str:
        """The file's text on disk now."""
        return _file(self.folder, name).read_text(encoding="utf-8")

    def text(self, name: str) -> str:
        """The proposed text of ``name`` (the text on disk when the draft leaves it)."""
        if name in self.texts:
            return self.texts[name]
        text = self.current(name)
        self.read_digests.setdefault(name, digest(text))
        return text

    def change(self, name: str, *changes: Change) -> Draft:
        """Apply ``changes`` to the proposed text of ``name`` (comments and layout kept)."""
        self.set_text(name, apply(self.text(name), changes))
        return self

    def set_text(self, name: str, text: str) -> Draft:
        """Replace the proposed text of ``name`` (the raw YAML editor)."""
        if name not in self.read_digests:
            self.read_digests[name] = digest(self.current(name))
        self.texts[name] = text
        return self

    def diff(self) -> dict[str, str]:
        """A unified diff per changed file (empty files left out)."""
        result: dict[str, str] = {}
        for name, text in self.texts.items():
            lines = list(difflib.unified_diff(
                self.current(name).splitlines(True), text.splitlines(True),
                fromfile=f"a/{name}", tofile=f"b/{name}"))
            if lines:
                result[name] = "".join(lines)
        return result

    def check(self) -> tuple[MappingSet | None, list[Problem]]:
        """The folder as the draft would leave it, validated as `mappings validate` does;
        problems name the real files."""
        with tempfile.TemporaryDirectory(prefix="handoff-draft-") as scratch:
            copy = Path(scratch) / self.folder.name
            shutil.copytree(self.folder, copy, ignore=shutil.ignore_patterns(".*"))
            for name, text in self.texts.items():
                _file(copy, name).write_text(text, encoding="utf-8")
            mappings, problems = validate_mappings(copy)
            return mappings, [_relocated(problem, copy, self.folder) for problem in problems]

    def save(self, audit: AuditLog, *, by: str, at: datetime, summary: str,
             lock_wait: float = LOCK_WAIT) -> int:
        """Write the changed files (each atomically) after checking the draft again and
        that nobody changed them since they were read; log the edit; its audit id.
        Under the folder's edit lock from the check to the audit row: the daemon's
        console and a standalone one save one after the other, and the second sees the
        first's change (SaveConflict) instead of overwriting it. AuditFailed when the
        files were written but the audit row was not."""
        with edit_lock(self.folder, wait=lock_wait):
            _mappings, problems = self.check()
            if problems:
                raise InvalidDraft(f"{len(problems)} problem(s) in the change; nothing was "
                                   f"saved. First: {problems[0]}")
            for name, was in self.read_digests.items():
                if name in self.texts and digest(self.current(name)) != was:
                    raise SaveConflict(f"{name} changed on disk after you opened it "
                                       "(another admin saved, or it was edited by hand): "
                                       "reload the page to start from the current file; "
                                       "nothing was saved")
            changes = self.diff()
            if not changes:
                raise InvalidDraft("nothing to save: the change leaves every file as it is")
            _write_all({_file(self.folder, name): self.texts[name] for name in changes})
            try:
                return audit.record_mapping_edit(str(self.folder), at=at, by=by,
                                                 summary=summary, diff=changes)
            except Exception as exc:  # any database failure: the files are written already
                log.warning("mapping edit of %s saved, audit row failed: %s", self.folder,
                            redaction.redact(str(exc)))
                raise AuditFailed(
                    f"the change was saved ({', '.join(changes)}), but its audit entry "
                    f"could not be written ({type(exc).__name__}): the Audit page will not "
                    "list it") from None


@contextmanager
def edit_lock(folder: Path, *, wait: float = LOCK_WAIT) -> Iterator[None]:
    """An exclusive lock on ``folder/.handoff-edit.lock`` (fcntl.flock: every process on
    this host, and NFS-free shared volumes); UserError when it stays taken ``wait``
    seconds, or when the folder is not writable."""
    path = folder / LOCK_FILE
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UserError(
            f"cannot write {path} ({exc.strerror or exc}); nothing was saved",
            hint="make the mappings folder writable by the user the console runs as (the "
                 "Docker image mounts /config read-only: mount the mappings folder "
                 "read-write to edit it here)") from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise UserError(f"another save of {folder} is still running; nothing "
                                    "was saved", hint="try again in a minute") from None
                time.sleep(LOCK_POLL)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _file(folder: Path, name: str) -> Path:
    """``folder/name``, refusing names that would leave the folder."""
    if not name or "/" in name or "\\" in name or name.startswith(".") or \
            not name.endswith(".yaml"):
        raise UserError(f"{name!r} is not a mappings file name (name.yaml in the folder)")
    return folder / name


def _relocated(problem: Problem, copy: Path, folder: Path) -> Problem:
    try:
        relative = Path(problem.file).relative_to(copy)
    except ValueError:
        return problem
    return Problem(folder / relative, problem.line, problem.column, problem.path,
                   problem.message, problem.hint)


def _write_all(texts: Mapping[Path, str]) -> None:
    """Every file written to a temporary beside it first (where a read-only folder or a
    full disk fails, before any file changed), then each renamed over its file."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in texts.items():
            staged.append((_staged(path, text), path))
    except OSError as exc:
        for temporary, _path in staged:
            Path(temporary).unlink(missing_ok=True)
        raise UserError(
            f"cannot write {path} ({exc.strerror or exc}); nothing was saved",
            hint="make the mappings folder writable by the user the console runs as (the "
                 "Docker image mounts /config read-only: mount the mappings folder "
                 "read-write to edit it here)") from None
    for temporary, path in staged:
        os.replace(temporary, path)


def _staged(path: Path, text: str) -> str:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary
