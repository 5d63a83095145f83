"""Malformed input never escapes as anything but MappingError, and never hangs."""

import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handoff_sync.errors import MappingError
from handoff_sync.mapping.loader import load_mappings
from handoff_sync.problems.yaml_source import MAX_FILE_BYTES
from tests.property_support import examples

PACK = Path(__file__).resolve().parents[2] / "mappings"
FILES = {name: (PACK / name).read_bytes()
         for name in ("hubspot.yaml", "salesforce.yaml", "handoff.yaml")}
HANG_LIMIT_S = 20  # a hang guard, far above the ~10 ms one load takes


@contextmanager
def no_hang(seconds: int = HANG_LIMIT_S) -> Iterator[None]:
    def fail(_signum: int, _frame: object) -> None:
        raise AssertionError(f"the loader ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def load_with(name: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for file, data in FILES.items():
            (folder / file).write_bytes(content if file == name else data)
        with no_hang():
            try:
                load_mappings(folder)
            except MappingError as exc:
                assert exc.problems, "a MappingError always carries its problems"
                for problem in exc.problems:
                    assert problem.line >= 1 and problem.column >= 1
                    assert problem.file.name in (*FILES, folder.name)


def _mutate(data: bytes, kind: str, position: float, payload: bytes) -> bytes:
    at = int(position * len(data))
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + payload + data[at:]
    if kind == "replace":
        return data[:at] + payload + data[at + len(payload):]
    if kind == "tab":
        line_start = data.rfind(b"\n", 0, at) + 1
        return data[:line_start] + b"\t" + data[line_start:]
    if kind == "duplicate_line":
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end + 1
        return data[:end] + data[start:end] + data[end:]
    if kind == "swap_type":  # a scalar where a mapping was, and the other way round
        return data.replace(b": {", b": 7 #", 1) if position < 0.5 else data.replace(
            b": ", b": {x: [", 1)
    raise AssertionError(kind)


_PAYLOAD = st.one_of(
    st.binary(min_size=1, max_size=12),
    st.sampled_from([b"\xff\xfe", b"\x00", b"&a [*a]", b"*nope", b"!!python/object:os.system",
                     b"<<: *x", b"---\n", b"? [a]\n: b", b"\"", b"'", b"{", b"]", b"\xe2\x80",
                     b": : :", b"- - -", b"\r", b"%TAG ! x\n"]),
)


@settings(max_examples=examples(250), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(FILES)),
       kind=st.sampled_from(["truncate", "insert", "replace", "tab", "duplicate_line",
                             "swap_type"]),
       position=st.floats(min_value=0, max_value=1), payload=_PAYLOAD)
def test_mutated_default_files_only_raise_mapping_error(name, kind, position, payload):
    load_with(name, _mutate(FILES[name], kind, position, payload))


@settings(max_examples=examples(60), deadline=None)
@given(name=st.sampled_from(sorted(FILES)), content=st.binary(max_size=2000))
def test_random_bytes_only_raise_mapping_error(name, content):
    load_with(name, content)


@pytest.mark.parametrize("content", [
    b"x" * (MAX_FILE_BYTES + 1),                                   # too big to read
    b"version: 1\nfields:\n" + b"  a: b\n" * 140_000,              # just under the size cap
    b"[" * 200_000,                                                # deep flow nesting
    b"- " * 100_000 + b"x",                                        # deep block nesting
    b"a: &a [" + b"1," * 50_000 + b"1]\nb: [" + b"*a," * 1000 + b"*a]\n",  # alias fan-out
    b"version: 1" + b"0" * 5000,                                   # a 5,000-digit number
    "version: 1\nrole: crm\nobject: \u00e9\u4e2d\U0001f600\n".encode("utf-16"),  # not UTF-8
])
def test_huge_deep_and_hostile_files_are_refused_quickly(content):
    load_with("salesforce.yaml", content)
