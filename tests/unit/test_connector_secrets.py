"""Both connectors read secrets by one rule (``connectors.secret_text.read_secret``): a
configured file wins over its variable, a missing secret is an error naming where to put
it, never showing a value, and every value read is told to the ``on_secret`` hook."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import AuthError
from connectors.hubspot.auth import read_secret
from connectors.salesforce.auth import SecretRef


def test_a_file_wins_over_its_variable_in_both_connectors(tmp_path: Path) -> None:
    file = tmp_path / "secret"
    file.write_text("from-file\n")
    env = {"SECRET": "from-env"}
    assert SecretRef(env="SECRET", file=file).read(env) == "from-file"
    assert read_secret("token", "SECRET", str(file), env).reveal() == "from-file"


def test_the_variable_is_used_when_no_file_is_set() -> None:
    env = {"SECRET": "  from-env "}
    assert SecretRef(env="SECRET").read(env) == "from-env"
    assert read_secret("token", "SECRET", None, env).reveal() == "from-env"


def test_a_missing_secret_names_its_source_and_never_a_value(tmp_path: Path) -> None:
    not_set = "environment variable SECRET is not set: set it to the secret"
    with pytest.raises(AuthError, match=not_set):
        SecretRef(env="SECRET").read({"OTHER": "hunter2"})
    with pytest.raises(AuthError, match=not_set):
        read_secret("token", "SECRET", None, {"OTHER": "hunter2"})
    absent = tmp_path / "absent"
    with pytest.raises(AuthError, match=f"file {absent} not found: create it") as caught:
        SecretRef(env="SECRET", file=absent).read({"SECRET": "hunter2"})
    assert "hunter2" not in str(caught.value)
    with pytest.raises(AuthError, match=f"file {absent} not found: create it"):
        read_secret("token", "SECRET", str(absent), {"SECRET": "hunter2"})


def test_every_value_read_is_told_to_the_hook_a_refused_one_line_by_line(
        tmp_path: Path) -> None:
    told: list[str] = []
    file = tmp_path / "secret"
    file.write_text("first-line-token\n")
    assert SecretRef(file=file).read({}, on_secret=told.append) == "first-line-token"
    assert read_secret("token", "SECRET", None, {"SECRET": "env-token"},
                       on_secret=told.append).reveal() == "env-token"
    assert told == ["first-line-token", "env-token"]
    told.clear()
    file.write_text("first-line-token\r\nsecond-line\n")
    with pytest.raises(AuthError, match="holds a second line"):
        SecretRef(file=file).read({}, on_secret=told.append)
    assert "first-line-token" in told and "second-line" in told  # each may be real
    told.clear()
    with pytest.raises(AuthError, match="is empty"):
        read_secret("token", "SECRET", None, {"SECRET": " \n"}, on_secret=told.append)
    assert told == []
