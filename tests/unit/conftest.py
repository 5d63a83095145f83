"""Unit tests are pure: no database, no sleep, no sockets, no subprocess, no sandbox.

This is the rule as code. While a test under tests/unit sets up and runs, the guard below
is on, and any of these fails the test with a message saying what was done and where the
test belongs instead:
- a socket made, connected, bound or a name looked up (the sandbox, HTTP, PostgreSQL's
  admin connection through Python) -> tests/connectors, tests/sandbox or tests/e2e;
- a database opened (sqlite3, psycopg), so any SQLAlchemy engine that connects -> tests/store;
- a real sleep (``time.sleep``, also where a default argument holds it, as the
  connectors' and budget guards' ``sleep=time.sleep`` do) -> use handoff_sync.testing's
  FakeClock;
- a child process (subprocess, os.system, exec, fork, spawn) -> tests/e2e;
- the fixtures that bring those (sandbox, sf, hs, sandbox_server, store, store_url).
Threads the test starts are watched as well; threads that were already running when the
test began (the session's sandbox, when another folder started it) are not the test's.
The exception derives from BaseException so that no ``except Exception`` in the code under
test can swallow it, and every breach is also noted and reported after the test, even one
raised in a thread. tests/unit/test_purity.py shows each breach failing.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Generator, Iterator
from types import FunctionType, ModuleType
from typing import Any

import pytest

FORBIDDEN_FIXTURES = {
    "sandbox_server": "the loopback sandbox (tests/connectors, tests/sandbox or tests/e2e)",
    "sandbox": "the loopback sandbox (tests/connectors, tests/sandbox or tests/e2e)",
    "sf": "the loopback sandbox (tests/connectors, tests/sandbox or tests/e2e)",
    "hs": "the loopback sandbox (tests/connectors, tests/sandbox or tests/e2e)",
    "store": "a database (tests/store)",
    "store_url": "a database (tests/store)",
}
AUDIT_EVENTS = {
    "socket.__new__": "a socket", "socket.connect": "a socket connection",
    "socket.bind": "a listening socket", "socket.getaddrinfo": "a name lookup",
    "socket.gethostbyname": "a name lookup", "socket.gethostbyaddr": "a name lookup",
    "sqlite3.connect": "a database (SQLite)",
    "subprocess.Popen": "a child process", "os.system": "a child process",
    "os.exec": "a child process", "os.fork": "a child process",
    "os.forkpty": "a child process", "os.posix_spawn": "a child process",
    "os.spawn": "a child process",
}
WHERE = {
    "a socket": "tests/connectors, tests/sandbox or tests/e2e",
    "a socket connection": "tests/connectors, tests/sandbox or tests/e2e",
    "a listening socket": "tests/e2e (servers), tests/sandbox",
    "a name lookup": "tests/connectors or tests/e2e",
    "a database (SQLite)": "tests/store",
    "a database (PostgreSQL)": "tests/store",
    "a child process": "tests/e2e",
    "a real sleep": "tests/store or tests/e2e, or pass handoff_sync.testing.FakeClock's sleep",
}


class ImpureUnitTest(BaseException):
    """A unit test did IO or waited: it belongs in another folder (the message says which)."""


class _Guard:
    """On while a unit test sets up and runs; notes every breach made meanwhile."""

    def __init__(self) -> None:
        self.on = False
        self.exempt: frozenset[int] = frozenset()
        self.breaches: list[str] = []

    def applies(self) -> bool:
        return self.on and threading.get_ident() not in self.exempt

    def refuse(self, what: str, detail: str) -> None:
        message = (f"unit tests are pure, but this one used {what} ({detail}); "
                   f"it belongs in {WHERE[what]} (see tests/unit/conftest.py)")
        self.breaches.append(message)
        raise ImpureUnitTest(message)

    def start(self) -> None:
        current = threading.get_ident()
        self.exempt = frozenset(t.ident for t in threading.enumerate()
                                if t.ident is not None and t.ident != current)
        self.breaches = []
        self.on = True

    def stop(self) -> list[str]:
        self.on = False
        breaches, self.breaches = self.breaches, []
        return breaches


GUARD = _Guard()
_real_sleep: Callable[[float], None] = time.sleep


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event in AUDIT_EVENTS and GUARD.applies():
        GUARD.refuse(AUDIT_EVENTS[event], f"{event}{args[:2]!r}")


def _guarded_sleep(seconds: float) -> None:
    if GUARD.applies():
        GUARD.refuse("a real sleep", f"time.sleep({seconds!r})")
    _real_sleep(seconds)


_guarded_sleep.unit_guard = True  # type: ignore[attr-defined]


def _functions(module: ModuleType) -> Iterator[FunctionType]:
    for value in list(vars(module).values()):
        if isinstance(value, FunctionType):
            yield value
        elif isinstance(value, type) and value.__module__ == module.__name__:
            for member in vars(value).values():
                member = getattr(member, "__func__", member)  # staticmethod, classmethod
                if isinstance(member, FunctionType):
                    yield member


_scanned: set[str] = set()


def rebind_default_sleeps(prefixes: tuple[str, ...] = ("handoff_sync", "connectors")) -> int:
    """Point ``sleep=time.sleep`` defaults bound before the guard was installed at the
    guarded sleep; returns how many it changed. Each module is looked at once; modules
    imported after the guard was installed bind the guarded sleep anyway."""
    changed = 0
    for name, module in list(sys.modules.items()):
        if module is None or name in _scanned or not name.startswith(prefixes):
            continue
        _scanned.add(name)
        for function in _functions(module):
            if function.__defaults__ and any(d is _real_sleep for d in function.__defaults__):
                function.__defaults__ = tuple(_guarded_sleep if d is _real_sleep else d
                                              for d in function.__defaults__)
                changed += 1
            kwdefaults = function.__kwdefaults__
            if kwdefaults and any(d is _real_sleep for d in kwdefaults.values()):
                function.__kwdefaults__ = {k: _guarded_sleep if d is _real_sleep else d
                                           for k, d in kwdefaults.items()}
                changed += 1
    return changed


def _guard_psycopg() -> None:
    """psycopg connects in C (libpq), past the socket audit events: wrap its entry."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - a dependency of the store
        return
    real = psycopg.Connection.connect.__func__  # type: ignore[attr-defined]

    def connect(cls: type, *args: Any, **kwargs: Any) -> Any:
        if GUARD.applies():
            GUARD.refuse("a database (PostgreSQL)", "psycopg.connect")
        return real(cls, *args, **kwargs)

    psycopg.Connection.connect = classmethod(connect)  # type: ignore[assignment, method-assign]
    psycopg.connect = psycopg.Connection.connect  # type: ignore[assignment]


def _install() -> None:
    """Once per process; inert while no unit test runs."""
    if getattr(time.sleep, "unit_guard", False):
        return
    sys.addaudithook(_audit)
    time.sleep = _guarded_sleep
    _guard_psycopg()


_install()


def _check_fixtures(item: pytest.Item) -> None:
    used = [name for name in getattr(item, "fixturenames", ()) if name in FORBIDDEN_FIXTURES]
    if used:
        raise ImpureUnitTest(
            f"unit tests are pure, but this one asks for {', '.join(used)}: "
            f"{FORBIDDEN_FIXTURES[used[0]]} (see tests/unit/conftest.py)")


def _guarded(item: pytest.Item) -> Generator[None, None, None]:
    rebind_default_sleeps()  # cheap; catches modules the test module imported first
    GUARD.start()
    try:
        yield
    finally:
        breaches = GUARD.stop()
    if breaches:  # raised in a thread, or caught by the code under test
        raise ImpureUnitTest(breaches[0] + (f" (and {len(breaches) - 1} more)"
                                            if len(breaches) > 1 else ""))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    _check_fixtures(item)
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _guarded(item))
