"""What handoff-sync tells an operator about the files it keeps on this host: who may read
or change them, and what a full disk means. One wording for the config loader, the secret
reader, the store and the command line.

Modes: the bits that matter are the ones for *others*, any account on the host. Group bits
are never warned about: a group is granted by an admin on purpose, and a shared group is
how the README says to mount secrets (0640, root-owned, the service's group). So:

* others may write (o+w) any file handoff-sync trusts: its config, a secret, the store.
  Whoever can change it can redirect the sync, swap a credential or rewrite the state.
* others may read (o+r) a *private* file, one holding a secret or a copy of CRM data (the
  secrets, the SQLite store). The config holds neither (secrets are only referenced), so
  reading it is fine.

A warning, never a refusal or a ``chmod`` of our own: the operator may have reasons (a
read-only container image, a mount whose modes cannot change) and the sync keeps working.
Each file is warned about once per process (per mode): pipelines share connections.
"""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import structlog

log = structlog.get_logger("handoff_sync.files")
_warned: set[tuple[Path, int, bool]] = set()
_lock = threading.Lock()



def disk_full_advice(where: str) -> str:
    """What to do about a full disk while writing ``where`` (a path, "the database"), and
    what is safe: every writer commits all or nothing, so a failed write is redone whole."""
    return (f"free space on the disk holding {where}, then run again (nothing already "
            "recorded is lost; the next run redoes what failed)")


def warn_if_loose(path: Path, what: str, *, private: bool, event: str = "file",
                  chmod_paths: str | None = None, when: str = "") -> None:
    """Log a warning when others may change ``path``, or read it if it is ``private``
    (see the module docstring), naming the ``chmod`` that fixes it.

    ``what`` names the file for people ("secret file"); the event is
    ``{event}_world_readable`` or ``{event}_world_writable``; ``chmod_paths`` (default
    ``path``) and ``when`` ("while the daemon is stopped") complete the hint."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return  # whoever opens it says what is wrong with it
    readable = private and bool(mode & stat.S_IROTH)
    if not readable and not mode & stat.S_IWOTH:
        return
    with _lock:
        if (path, mode, private) in _warned:
            return
        _warned.add((path, mode, private))
    targets = chmod_paths or str(path)
    if readable:
        log.warning(f"{event}_world_readable", file=str(path), mode=f"{mode:04o}",
                    hint=f"anyone on this host may read the {what}: run `chmod 600 "
                         f"{targets}`{when} (or 640 with a shared group)")
    else:
        log.warning(f"{event}_world_writable", file=str(path), mode=f"{mode:04o}",
                    hint=f"anyone on this host may change the {what}: run `chmod o-w "
                         f"{targets}`{when}")
