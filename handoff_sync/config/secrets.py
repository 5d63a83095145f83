"""Values the config file refers to instead of holding: ``${VARS}``, secrets, relative paths.

A config file is checked into repositories and pasted into tickets, so it must never hold
a secret. A secret key accepts only a reference, ``${NAME}`` (an environment variable) or
``{file: PATH}`` (a mounted secret, a PEM key). Loading the config does not require the
secrets (``status`` works without them), but what it can read it registers with
``redaction`` so no output shows it; ``read_secret`` reads one strictly when a connector
is built, by the connectors' own rule (``connectors.secret_text``, the one reader): a
missing, empty or unreadable secret, or one holding a control character (a second line, a
carriage return), is a ``SecretError`` naming the variable or file, never the value. A
secret file others may read gets a warning with the ``chmod`` that fixes it
(``local_files``).

Ordinary text may use ``${NAME}`` too (``database.url: ${DATABASE_URL}``); that is
expanded while loading, and a variable that is not set is an error naming it. ``$${``
writes a literal ``${``.

The folder that relative paths start from and the environment come in through pydantic's
validation context (``LoadContext``), so the models stay plain declarations.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from connectors import secret_text
from connectors.secret_text import SecretTextError
from handoff_sync.errors import ConfigError
from handoff_sync.safety import redaction
from handoff_sync.safety.local_files import warn_if_loose

SECRET_LITERAL = ("secrets may not be written in the config file; use ${ENV_VAR} or "
                  "{file: /path}")
_REFERENCE = re.compile(r"\$\$\{|\$\{(?P<name>[^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET_ENV = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class LoadContext:
    """What resolving a config needs besides the file: its folder and the environment."""

    base: Path = field(default_factory=Path.cwd)
    """Relative paths in the file start here (the config file's folder)."""
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    """Where ``${NAME}`` in non-secret text is looked up."""


def context_of(info: ValidationInfo) -> LoadContext:
    """The load context, or the process's (cwd, os.environ) for models built in code."""
    context = info.context
    return context if isinstance(context, LoadContext) else LoadContext()


def expand_env(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with each ``${NAME}`` replaced by the variable's value; ValueError naming
    the variable when it is unset or empty (never showing any value)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group("name")
        if name is None:
            raise ValueError("'${' is not closed: write ${NAME}, or $${ for a literal '${'")
        if not _NAME.fullmatch(name):
            raise ValueError(f"'${{{name}}}' is not an environment variable reference "
                             "(names are letters, digits and _); write $${ for a literal '${'")
        value = environ.get(name)
        if value is None:
            raise ValueError(f"environment variable {name} is not set (the value refers to "
                             f"${{{name}}}); set it, or write the value here")
        if not value.strip():
            raise ValueError(f"environment variable {name} is empty (the value refers to "
                             f"${{{name}}})")
        return value

    return _REFERENCE.sub(substitute, text)


def expand_text(value: Any, info: ValidationInfo) -> Any:
    """Before-validator for text keys: expand ``${NAME}``; other types pass to the schema."""
    if isinstance(value, str):
        return expand_env(value, context_of(info).environ)
    return value


def resolve_path(value: Any, info: ValidationInfo) -> Any:
    """Before-validator for path keys: expand ``${NAME}`` and ``~``, then make the path
    absolute against the config file's folder."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        raise ValueError("expected a path, got empty text")
    context = context_of(info)
    return absolute(Path(expand_env(value, context.environ)), context.base)


def absolute(path: Path, base: Path) -> Path:
    """``path`` made absolute against ``base``, with ``..`` folded but symlinks kept:
    a mounted secret is a symlink that moves on rotation, so it must not be pinned."""
    path = path.expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else base / path))


class SecretSource(BaseModel):
    """Where one secret is read from when a connector needs it; never the secret itself."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True,
                              use_attribute_docstrings=True)

    env: str | None = None
    """Environment variable holding the secret (written ``${NAME}`` in the file)."""
    file: Path | None = None
    """Absolute path of the file holding the secret (written ``{file: PATH}``)."""

    @model_validator(mode="after")
    def _one_source(self) -> SecretSource:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret comes from one place: ${ENV_VAR} or {file: PATH}")
        return self

    def __str__(self) -> str:
        return f"${{{self.env}}}" if self.env is not None else f"{{file: {self.file}}}"


def parse_secret(value: Any, info: ValidationInfo) -> Any:
    """Before-validator for secret keys: ``${NAME}`` or ``{file: PATH}``, nothing else.

    The error never repeats the value: a literal here is most likely a real secret.
    """
    if value is None or isinstance(value, SecretSource):
        return value
    if isinstance(value, str):
        match = _SECRET_ENV.fullmatch(value.strip())
        if match is None:
            raise ValueError(SECRET_LITERAL)
        return SecretSource(env=match.group("name"))
    if isinstance(value, dict):
        unknown = sorted(str(key) for key in value if key != "file")
        if unknown:
            raise ValueError(f"unknown key '{unknown[0]}' in a secret: write ${{ENV_VAR}} or "
                             "{file: PATH}")
        path = value.get("file")
        if not isinstance(path, str) or not path.strip():
            raise ValueError("a secret file is written {file: PATH}, with PATH as text")
        return SecretSource(file=resolve_path(path, info))
    raise ValueError(SECRET_LITERAL)


class SecretError(ConfigError, ValueError):
    """A secret cannot be used; the message names its variable or file and what to do."""

    hint = "set the environment variable, or fix the secret file, that the config names"


def secret_sources(section: BaseModel) -> Iterator[tuple[str, SecretSource]]:
    """(key, source) for each secret a config section (a connection) refers to."""
    for key in type(section).model_fields:
        value = getattr(section, key)
        if isinstance(value, SecretSource):
            yield key, value


MULTILINE_KEYS = frozenset({"private_key"})
"""Secret keys whose value spans lines (a PEM key)."""


def read_secret(source: SecretSource, environ: Mapping[str, str] | None = None, *,
                multiline: bool = False) -> str:
    """The secret's value, checked (see the module docstring) and registered for redaction;
    SecretError when it is missing, empty, unreadable or holds a control character."""
    if source.file is not None:
        warn_if_loose(source.file, "secret file", private=True)
    try:
        return secret_text.read_secret(file=source.file, env=source.env, environ=environ,
                                       multiline=multiline, on_secret=redaction.remember)
    except SecretTextError as exc:
        raise SecretError(str(exc)) from None


def remember_secrets(section: BaseModel, environ: Mapping[str, str]) -> None:
    """Register for redaction what can be read of a section's secrets, quietly: a missing
    or bad secret is reported when a connector needs it, not when ``status`` loads."""
    for key, source in secret_sources(section):
        with contextlib.suppress(SecretTextError):  # a refused one is registered anyway
            secret_text.read_secret(file=source.file, env=source.env, environ=environ,
                                    multiline=key in MULTILINE_KEYS,
                                    on_secret=redaction.remember)
