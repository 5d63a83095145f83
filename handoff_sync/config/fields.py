"""What every config section is made of: the frozen base model, the field types (text with
${VARS} expanded, paths made absolute, secret references, names) and the words for each
pattern a value must match."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from handoff_sync.config.secrets import (
    SecretSource,
    expand_text,
    parse_secret,
    resolve_path,
)

if TYPE_CHECKING:  # the connectors' settings, imported where they are built
    pass

FORMAT_VERSION = 1
DEFAULT_FILE = Path("handoff-sync.yaml")
POLICY_FILE = "handoff.yaml"  # as in handoff_sync.mapping.loader
NAME_PATTERN = r"^[a-z0-9_-]+$"
API_VERSION_PATTERN = r"^\d+\.\d$"
PATTERN_WORDS = {
    NAME_PATTERN: "use lowercase letters, digits, '_' and '-'",
    API_VERSION_PATTERN: "write the version as digits, a dot and one digit, e.g. '59.0'",
}
"""What each ``pattern=`` below allows, as a problem says it."""

Text = Annotated[str, BeforeValidator(expand_text)]
"""Text in which ``${NAME}`` is replaced by the environment variable's value."""
ConfigPath = Annotated[Path, BeforeValidator(resolve_path)]
"""A path, made absolute against the config file's folder."""
Secret = Annotated[SecretSource, BeforeValidator(parse_secret)]
"""``${NAME}`` or ``{file: PATH}``; a literal value is refused."""
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]


class Section(BaseModel):
    """Base of every config model: frozen, strict types, no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True,
                              use_attribute_docstrings=True)
