"""Secrets are checked as they are read and never shown: every reader refuses a control
character with a message naming the variable or file; every value read is registered, and
the logs (fields, nested values, exception text, stdlib loggers) redact it. Secret and
config files and the store get a warning naming the chmod when others may read or write
them, by one rule (``local_files``); a full disk is worded once. Where a database or a
process is involved: tests/store/test_secrets_store.py, tests/e2e/test_disk_full.py."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from connectors.errors import AuthError
from connectors.hubspot.auth import read_secret as hubspot_read
from connectors.salesforce.auth import SecretRef
from handoff_sync.config.load import load_config
from handoff_sync.config.secrets import SecretError, SecretSource, read_secret
from handoff_sync.daemon.logs import configure_logging
from handoff_sync.safety import redaction
from handoff_sync.safety.local_files import warn_if_loose

TOKEN = "pat-na1-0123456789abcdef"
Reader = Callable[[dict[str, str], Path | None], str]


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    redaction.forget_all()
    yield
    redaction.forget_all()


def by_hubspot(environ: dict[str, str], file: Path | None) -> str:
    return hubspot_read("private-app access token", "TOKEN", str(file) if file else None,
                        environ).reveal()


def by_salesforce(environ: dict[str, str], file: Path | None) -> str:
    return SecretRef(env="TOKEN" if file is None else None, file=file).read(environ)


def by_config(environ: dict[str, str], file: Path | None) -> str:
    source = SecretSource(file=file) if file else SecretSource(env="TOKEN")
    return read_secret(source, environ)


READERS = pytest.mark.parametrize("reader", [by_hubspot, by_salesforce, by_config])
REFUSED = [
    (f"{TOKEN}\nsecond-line\n", "a second line"),
    (f"pat-na1\x00{TOKEN}", "a NUL byte"),
    (f"pat-na1\t{TOKEN}", "a tab"),
    (f"{TOKEN}\n\n", "a second line"),
    (f"pat\x1b[31m{TOKEN}", "the control character U+001B"),
]


@READERS
@pytest.mark.parametrize(("text", "named"), [
    *REFUSED,
    # Files are read as text: a Windows line end is a line end, so \r\n then more text
    # is a second line, and a lone \r (old Mac files) too.
    (f"{TOKEN}\r\nsecond-line", "a second line"),
    (f"pat-na1\r{TOKEN}", "a second line"),
])
def test_a_secret_file_with_a_control_character_is_refused_naming_the_file(
        reader: Reader, text: str, named: str, tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_bytes(text.encode())
    with pytest.raises((AuthError, SecretError)) as caught:
        reader({}, file)
    message = str(caught.value)
    assert f"file {file} holds {named}" in message
    assert TOKEN not in message and "pat-na1" not in message


@READERS
@pytest.mark.parametrize(("text", "named"), [
    *REFUSED,
    (f"{TOKEN}\r\n", "a carriage return"),  # set from a file with Windows line ends
    (f"{TOKEN}\r\nsecond-line", "a carriage return"),
])
def test_a_variable_with_a_control_character_is_refused_naming_it(
        reader: Reader, text: str, named: str) -> None:
    with pytest.raises((AuthError, SecretError)) as caught:
        reader({"TOKEN": text}, None)
    assert f"environment variable TOKEN holds {named}" in str(caught.value)
    assert TOKEN not in str(caught.value)


@READERS
def test_one_final_newline_and_surrounding_spaces_are_dropped(reader: Reader,
                                                              tmp_path: Path) -> None:
    file = tmp_path / "token"
    for ending in ("\n", "\r\n", ""):
        file.write_bytes(f"{TOKEN}{ending}".encode())
        assert reader({}, file) == TOKEN
    assert reader({"TOKEN": f"  {TOKEN} \n"}, None) == TOKEN


def test_a_pem_key_may_span_lines_but_holds_no_other_control_character(
        tmp_path: Path) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\n-----END PRIVATE KEY-----\n"
    file = tmp_path / "key.pem"
    file.write_text(pem, encoding="utf-8")
    assert read_secret(SecretSource(file=file), {}, multiline=True) == pem.strip()
    assert SecretRef(file=file).read({}, multiline=True) == pem.strip()
    file.write_text(pem.replace("MIIE", "MI\x00IE"), encoding="utf-8")
    with pytest.raises(SecretError, match="holds a NUL byte"):
        read_secret(SecretSource(file=file), {}, multiline=True)


def test_a_missing_blank_or_unreadable_secret_says_what_to_do(tmp_path: Path) -> None:
    cases = [
        (SecretSource(env="TOKEN"), {}, "environment variable TOKEN is not set: set it"),
        (SecretSource(env="TOKEN"), {"TOKEN": " \n"}, "environment variable TOKEN is empty"),
        (SecretSource(file=tmp_path / "absent"), {}, f"file {tmp_path}/absent not found"),
        (SecretSource(file=tmp_path), {}, f"file {tmp_path} is a folder"),
    ]
    for source, environ, message in cases:
        with pytest.raises(SecretError, match="^" + message):
            read_secret(source, environ)
    (tmp_path / "latin1").write_bytes(b"caf\xe9-secret")
    with pytest.raises(SecretError, match="is not UTF-8 text"):
        read_secret(SecretSource(file=tmp_path / "latin1"), {})


def test_an_unreadable_secret_file_names_the_fix(tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_text(TOKEN, encoding="utf-8")
    file.chmod(0)
    try:
        file.read_bytes()
        pytest.skip("this process reads files whatever their mode (root)")
    except PermissionError:
        pass
    with pytest.raises(SecretError, match=r"cannot be read by this user.*chown"):
        read_secret(SecretSource(file=file), {})


# -- the registry -----------------------------------------------------------------------

def test_read_secrets_are_registered_and_redacted_in_any_text(tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_text(TOKEN + "\n", encoding="utf-8")
    read_secret(SecretSource(file=file), {})
    assert redaction.redact(f"header b'Bearer {TOKEN}' sent") == \
        "header b'Bearer [redacted]' sent"


def test_a_refused_secret_is_registered_too_with_each_of_its_lines(tmp_path: Path) -> None:
    file = tmp_path / "token"
    file.write_text(f"{TOKEN}\nsecond-line\n", encoding="utf-8")
    with pytest.raises(SecretError):
        read_secret(SecretSource(file=file), {})
    # As an HTTP library would print it: escaped, inside a bytes repr.
    shown = repr(f"Bearer {TOKEN}\nsecond-line".encode())
    assert TOKEN not in redaction.redact(shown) and "second-line" not in redaction.redact(shown)
    assert TOKEN not in redaction.redact(f"token {TOKEN} alone")


def test_loading_a_config_registers_its_secrets_and_database_password(
        tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "hs-token").write_text(TOKEN + "\n", encoding="utf-8")
    config = tmp_path / "handoff-sync.yaml"
    config.write_text(
        "version: 1\n"
        "database: {url: 'postgresql://handoff:${DB_PASSWORD}@db/handoff'}\n"
        "connections:\n"
        "  crm: {system: hubspot, access_token: {file: hs-token}}\n"
        "  prm: {system: salesforce, auth: session, session_id: '${SF_SESSION}',\n"
        "        instance_url: 'https://example.my.salesforce.com'}\n"
        "pipelines: [{name: p, prm: prm, crm: crm, mappings: mappings, enabled: false}]\n",
        encoding="utf-8")
    load_config(config, environ={"DB_PASSWORD": "db-pass-w0rd", "SF_SESSION": "00Dsession!xyz"})
    assert {TOKEN, "db-pass-w0rd", "00Dsession!xyz"} <= redaction.known()


# -- the logs -----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "console"])
def test_log_lines_redact_known_secrets_in_every_field_and_the_exception(
        fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    redaction.remember(TOKEN)
    configure_logging("info", fmt)
    log = structlog.get_logger("connectors.hubspot")  # a connector's own logger
    try:
        raise ValueError(f"Invalid header value b'Bearer {TOKEN}\\nline-2'")
    except ValueError:
        log.error("call_failed", detail={"sent": [f"x{TOKEN}y"]}, note=TOKEN, exc_info=True)
    logging.getLogger("urllib3").warning("retrying with %s", TOKEN)
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert "Invalid header value" in err and "[redacted]" in err
    assert "retrying with [redacted]" in err
    if fmt == "json":
        [line] = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
        assert "Bearer [redacted]" in line["exception"] and line["note"] == "[redacted]"
        assert line["detail"] == {"sent": ["x[redacted]y"]}


# -- file modes ---------------------------------------------------------------------------

def test_a_world_readable_secret_file_is_warned_about_with_the_chmod(tmp_path: Path) -> None:
    file = tmp_path / "loose-token"
    file.write_text(TOKEN, encoding="utf-8")
    file.chmod(0o644)
    with capture_logs() as captured:
        read_secret(SecretSource(file=file), {})
        read_secret(SecretSource(file=file), {})  # once per process, not per read
    [warning] = [e for e in captured if e["event"] == "file_world_readable"]
    assert warning["file"] == str(file) and f"chmod 600 {file}" in warning["hint"]
    assert warning["log_level"] == "warning"

    tight = tmp_path / "tight-token"
    tight.write_text(TOKEN, encoding="utf-8")
    tight.chmod(0o640)  # a shared group is how the README says to mount them
    with capture_logs() as captured:
        read_secret(SecretSource(file=tight), {})
    assert captured == []


def test_a_world_writable_config_file_is_warned_about(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    config = tmp_path / "handoff-sync.yaml"
    config.write_text(
        "version: 1\nconnections:\n  crm: {system: hubspot, access_token: '${T}'}\n"
        "  prm: {system: hubspot, access_token: '${T}'}\n"
        "pipelines: [{name: p, prm: prm, crm: crm, mappings: mappings, enabled: false}]\n",
        encoding="utf-8")
    os.chmod(config, 0o666)
    with capture_logs() as captured:
        load_config(config, environ={})
    [warning] = [e for e in captured if e["event"] == "file_world_writable"]
    assert f"chmod o-w {config}" in warning["hint"]
    assert stat.S_IMODE(config.stat().st_mode) == 0o666  # a warning, not a fix


@pytest.mark.parametrize(("mode", "private", "event"), [
    (0o600, True, None), (0o640, True, None), (0o660, True, None),  # a group is chosen
    (0o644, True, "readable"), (0o604, True, "readable"), (0o606, True, "readable"),
    (0o602, True, "writable"), (0o622, True, "writable"),
    (0o644, False, None), (0o664, False, None),  # the config holds no secret
    (0o602, False, "writable"), (0o666, False, "writable"),
])
def test_one_mode_rule_for_every_file_we_keep(tmp_path: Path, mode: int, private: bool,
                                              event: str | None) -> None:
    file = tmp_path / f"file-{mode:o}-{private}"
    file.write_text("x", encoding="utf-8")
    file.chmod(mode)
    with capture_logs() as captured:
        warn_if_loose(file, "test file", private=private)
    assert [e["event"] for e in captured] == ([f"file_world_{event}"] if event else [])
    if event == "readable":
        assert f"chmod 600 {file}" in captured[0]["hint"]
    elif event == "writable":
        assert f"chmod o-w {file}" in captured[0]["hint"]


def test_a_secret_file_others_may_write_is_warned_about(tmp_path: Path) -> None:
    """Whoever may write a secret file may swap the credential the daemon uses."""
    file = tmp_path / "swappable-token"
    file.write_text(TOKEN, encoding="utf-8")
    file.chmod(0o602)
    with capture_logs() as captured:
        read_secret(SecretSource(file=file), {})
    [warning] = [e for e in captured if e["event"] == "file_world_writable"]
    assert f"chmod o-w {file}" in warning["hint"]


