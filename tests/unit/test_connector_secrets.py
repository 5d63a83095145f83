"""Both connectors read secrets by one rule: a configured file wins over its variable, and
a missing secret is an error naming where to put it, never showing a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import AuthError
from connectors.hubspot_auth import read_secret
from connectors.salesforce_auth import SecretRef


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
    with pytest.raises(AuthError, match="environment variable SECRET"):
        SecretRef(env="SECRET").read({"OTHER": "hunter2"})
    with pytest.raises(AuthError, match="SECRET is missing or empty"):
        read_secret("token", "SECRET", None, {"OTHER": "hunter2"})
    with pytest.raises(AuthError, match="cannot read the secret file") as caught:
        SecretRef(env="SECRET", file=tmp_path / "absent").read({"SECRET": "hunter2"})
    assert "hunter2" not in str(caught.value)
