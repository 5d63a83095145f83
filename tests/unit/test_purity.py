"""The unit-purity guard (tests/unit/conftest.py) refuses each kind of IO and waiting, with
a message that says where the test belongs: the rule cannot pass by not looking."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable

import psycopg
import pytest

from tests.unit.conftest import GUARD, ImpureUnitTest, rebind_default_sleeps


def refused(action: Callable[[], object]) -> str:
    """The guard's message for ``action``; the breach is taken back, so this test passes."""
    with pytest.raises(ImpureUnitTest) as caught:
        action()
    GUARD.breaches.clear()
    return str(caught.value)


def test_a_socket_is_refused() -> None:
    message = refused(socket.socket)
    assert "used a socket" in message and "tests/connectors" in message
    assert "tests/connectors" in refused(lambda: socket.create_connection(("127.0.0.1", 9)))


def test_a_name_lookup_is_refused() -> None:
    assert "a name lookup" in refused(lambda: socket.getaddrinfo("localhost", 443))


def test_sqlite_is_refused() -> None:
    message = refused(lambda: sqlite3.connect(":memory:"))
    assert "a database (SQLite)" in message and "tests/store" in message


def test_postgresql_is_refused_before_libpq_opens_its_socket() -> None:
    message = refused(lambda: psycopg.connect("postgresql://postgres@127.0.0.1:5432/test"))
    assert "a database (PostgreSQL)" in message and "tests/store" in message


def test_a_sqlalchemy_engine_that_connects_is_refused() -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine("sqlite://")

    def query() -> object:
        with engine.connect() as connection:
            return connection.execute(text("SELECT 1")).scalar()

    assert "a database (SQLite)" in refused(query)


def test_a_real_sleep_is_refused_even_through_a_default_argument() -> None:
    def waits(sleep: Callable[[float], None] = time.sleep) -> None:
        sleep(0.01)

    assert "a real sleep" in refused(lambda: time.sleep(0))
    message = refused(waits)
    assert "time.sleep(0.01)" in message and "FakeClock" in message


def test_a_sleep_default_the_product_bound_at_import_is_guarded_too() -> None:
    """Connectors, pacers and budget guards take ``sleep=time.sleep`` as a default, bound
    when they were imported (perhaps before the guard): each is re-pointed, so a unit test
    that forgets the FakeClock cannot really wait."""
    from connectors.budget import BudgetGuard, RatePacer
    from connectors.retry import call_with_retry

    rebind_default_sleeps()
    for function in (BudgetGuard.__init__, RatePacer.__init__, call_with_retry):
        assert (function.__kwdefaults__ or {})["sleep"] is time.sleep, function  # guarded
    pacer = RatePacer(1, 60.0)
    pacer.acquire()
    assert "a real sleep" in refused(pacer.acquire)


def test_a_child_process_is_refused() -> None:
    message = refused(lambda: subprocess.run(["true"], check=False))
    assert "a child process" in message and "tests/e2e" in message
    assert "a child process" in refused(lambda: os.system("true"))


def test_a_thread_the_test_starts_is_watched_too() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            time.sleep(0.01)
        except ImpureUnitTest as exc:
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    GUARD.breaches.clear()
    assert len(errors) == 1 and "a real sleep" in str(errors[0])


def test_a_breach_the_code_swallows_is_still_reported() -> None:
    """``except Exception`` cannot hide it (a BaseException), and a bare ``except`` that
    does is caught after the test: the breach was noted when it was made."""
    with contextlib.suppress(BaseException):  # what careless code under test might do
        time.sleep(0)
    assert GUARD.breaches and "a real sleep" in GUARD.breaches[-1]
    GUARD.breaches.clear()
