"""The drop folder itself: which exports are finished and not yet handled, and opening
one without following a link.

Only regular files in the folder itself are read. A symbolic link (to a file or a folder,
inside the folder or outside it), a named pipe, a device or a socket is refused and
reported by name: whoever can write into the drop folder must not be able to make the
daemon read /etc/passwd or a token file. The check is made on the entry itself (lstat)
and the file is opened without following links (O_NOFOLLOW) and checked again on the
open descriptor, so swapping a file for a link between the two cannot slip through.

Which files are done is the caller's record, kept by content checksum: a file is listed
until its checksum is among those handled, a copy under another name is not listed
again, and a re-export with new content is. Files are never moved, renamed or deleted;
the folder may be read-only.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, BinaryIO

from connectors.base import DropFile
from connectors.errors import PermissionDenied, SchemaError
from connectors.files.facts import SYSTEM

CHUNK = 1 << 16  # bytes per read: the file is hashed and parsed without being held
# Editors and spreadsheets leave these beside the files they have open.
_LOCK_PREFIXES = (".", "~$")
# O_NOFOLLOW: a link as the last component fails (ELOOP) instead of being followed.
# O_NONBLOCK: opening a named pipe that appeared in a race does not wait for a writer.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_BINARY", 0))
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISDIR, "a folder"))
_LINK = ("a symbolic link: links are not followed, so that nothing outside the drop folder "
         "can be read through one. Not read: copy or move the export itself into the "
         "folder and remove the link")


class DropFolder:
    """The exports in one folder that match the patterns, as the daemon may read them."""

    def __init__(self, folder: Path, patterns: Sequence[str], settle_seconds: float,
                 clock: Callable[[], float]) -> None:
        self.folder = folder
        self._patterns = [p.lower() for p in patterns]
        self._settle_seconds = settle_seconds
        self._clock = clock
        # (path, inode, size, mtime_ns) -> sha256: unchanged files are hashed only once
        # however many cycles they sit in the folder.
        self._checksums: dict[tuple[str, int, int, int], str] = {}

    def pending(self, seen_checksums: Collection[str]) -> list[DropFile]:
        """Finished exports whose content has not been handled, oldest first.

        Order is (modification time, name), so a later export of a registration wins.
        Of several files with the same content only the first is listed. Entries that
        are refused (links, pipes, devices, sockets, files that cannot be opened) are
        listed too, with the reason, so reading them reports them by name in the cycle.
        """
        taken = set(seen_checksums)
        found: list[DropFile] = []
        live: dict[tuple[str, int, int, int], str] = {}
        for path, info in self.candidates():
            modified_at = datetime.fromtimestamp(info.st_mtime, UTC)
            reason = refusal(info)
            if reason is None and self.settling(info):
                continue  # still being written; next cycle
            key = (str(path), info.st_ino, info.st_size, info.st_mtime_ns)
            checksum = self._checksums.get(key) if reason is None else None
            if reason is None and checksum is None:
                try:
                    checksum = _sha256(path, info)
                except Refused as exc:
                    reason = exc.reason
                except FileNotFoundError:
                    continue  # moved away since it was listed
                except PermissionError as exc:
                    raise unreadable(path) from exc
                except OSError as exc:  # e.g. an I/O error on a network share
                    reason = (f"the file could not be read ({exc.strerror}); it is tried "
                              "again next cycle")
            if reason is not None or checksum is None:
                if reason is not None:
                    found.append(DropFile(path, "", info.st_size, modified_at, reason))
                continue  # checksum None: replaced since it was listed; next cycle
            live[key] = checksum
            if checksum in taken:
                continue
            taken.add(checksum)
            found.append(DropFile(path, checksum, info.st_size, modified_at))
        self._checksums = live
        return found

    def settling(self, info: os.stat_result) -> bool:
        """Modified too recently: the export may still be being written."""
        return self._clock() - info.st_mtime < self._settle_seconds

    def candidates(self) -> list[tuple[Path, os.stat_result]]:
        """Entries whose names match, as lstat sees them (links are not followed).

        Plain sub-folders are left alone like any unmatched name; everything else that
        is not a regular file is returned so that it is refused by name.
        """
        folder = self.folder
        files: list[tuple[Path, os.stat_result]] = []
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError) as exc:
            what = "is not a folder" if folder.exists() else "does not exist"
            raise SchemaError(f"the file drop folder {folder} {what}; create it or point the "
                              "file drop's 'folder' setting at the folder the PRM exports "
                              "into", system=SYSTEM, code="FOLDER_MISSING") from exc
        except PermissionError as exc:
            raise unreadable(folder) from exc
        for entry in entries:
            name = entry.name
            if name.startswith(_LOCK_PREFIXES) or not any(
                    fnmatchcase(name.lower(), p) for p in self._patterns):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(info.st_mode):
                continue  # sub-folders are not read
            files.append((Path(entry.path), info))
        files.sort(key=lambda item: (item[1].st_mtime_ns, item[0].name))
        return files


class Refused(Exception):
    """The entry is not a regular file of the folder; ``reason`` says so for the admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refusal(info: os.stat_result) -> str | None:
    """Why an entry (as lstat or fstat sees it) is not read; None for a regular file."""
    if stat.S_ISREG(info.st_mode):
        return None
    if stat.S_ISLNK(info.st_mode):
        return _LINK
    kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
    return (f"{kind}, not a regular file: only regular files are read. Not read: remove it "
            "from the drop folder")


def open_export(path: Path) -> BinaryIO:
    """The regular file at ``path``, opened without following a link.

    The check is made on the open descriptor, so an entry swapped for a link or a pipe
    after it was listed is refused (``Refused``), not read.
    """
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Refused(_LINK) from None
        if exc.errno == errno.ENXIO:  # open() of a socket
            raise Refused(f"{dict(_KINDS)[stat.S_ISSOCK]}, not a regular file: only "
                          "regular files are read. Not read: remove it from the drop "
                          "folder") from None
        raise
    try:
        reason = refusal(os.fstat(fd))
        if reason is not None:
            raise Refused(reason)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def chunks(handle: BinaryIO, digest: Any) -> Iterator[bytes]:
    """The file's bytes in ``CHUNK``s, each also fed to ``digest`` (unless None)."""
    while chunk := handle.read(CHUNK):
        if digest is not None:
            digest.update(chunk)
        yield chunk


def unreadable(path: Path) -> PermissionDenied:
    return PermissionDenied(f"cannot read {path}: give the daemon's user read access to the "
                            "file drop folder and its files, or remove the file",
                            system=SYSTEM, code="UNREADABLE")


def _sha256(path: Path, listed: os.stat_result) -> str | None:
    """The file's checksum; None when the entry is no longer the inode that was listed."""
    digest = hashlib.sha256()
    with open_export(path) as handle:
        opened = os.fstat(handle.fileno())
        if (opened.st_dev, opened.st_ino) != (listed.st_dev, listed.st_ino):
            return None
        for _ in chunks(handle, digest):
            pass
    return digest.hexdigest()
