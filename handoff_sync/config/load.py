"""Loading the config file: YAML with line numbers, the models validated, then the checks
across keys (files it names, mappings folders, two pipelines on one CRM object); every
problem is reported at once in one ConfigError."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import (
    ValidationError,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.registry import SYSTEMS
from handoff_sync.config.errors import (
    ConfigError,
    ConfigProblem,
    line_of,
    validation_problems,
)
from handoff_sync.config.fields import PATTERN_WORDS, POLICY_FILE
from handoff_sync.config.packs import system_files
from handoff_sync.config.secrets import (
    LoadContext,
    remember_secrets,
)
from handoff_sync.problems.report import KeyPath
from handoff_sync.problems.yaml_source import read_yaml_file
from handoff_sync.safety import redaction
from handoff_sync.safety.local_files import warn_if_loose

if TYPE_CHECKING:  # the connectors' settings, imported where they are built
    pass

from handoff_sync.config.settings import Config, PipelineConfig

# --- loading ----------------------------------------------------------------------------

def load_config(path: Path, environ: Mapping[str, str] | None = None) -> Config:
    """The validated config in ``path``; raises ``ConfigError`` listing every problem.

    ``environ`` (default ``os.environ``) expands ``${NAME}`` in non-secret text; secrets
    are not read here (the connectors read them, from the same kind of environment).
    """
    file = Path(path).expanduser().absolute()
    if not file.is_file():
        if file.exists():
            raise ConfigError(f"config file {path} is not a file")
        raise ConfigError(f"config file {path} not found: create one with "
                          f"`handoff-sync init --out {path}`")
    document, yaml_problems = read_yaml_file(file)
    if document is None:
        raise ConfigError.from_problems(file, [
            ConfigProblem(file, p.line, p.path, p.message + (
                f" ({p.hint})" if p.hint and "mappings" not in p.hint else ""))
            for p in yaml_problems])
    context = LoadContext(base=file.parent,
                          environ=os.environ if environ is None else environ)
    try:
        config = Config.model_validate(document.data, context=context)
    except ValidationError as exc:
        raise ConfigError.from_problems(
            file, validation_problems(Config, exc, document, PATTERN_WORDS)) from None
    problems = [ConfigProblem(file, line_of(document.source, where), where, message)
                for where, message in check_files(config)]
    if problems:
        raise ConfigError.from_problems(file, problems)
    config._path = file
    # Each key's line (where its key is written, else its value), for messages that
    # point at a setting long after loading (a connection refused: check this URL).
    config._lines = {where: position[0] + 1 for where, position in
                     {**document.source.values, **document.source.keys}.items()}
    _register_secrets(config, context.environ)
    warn_if_loose(file, "config file", private=False)  # it references secrets only
    return config


def _register_secrets(config: Config, environ: Mapping[str, str]) -> None:
    """Tell ``redaction`` every secret value this config can reach, so no output shows
    one: the connections' secrets, the database password (expanded from ${VAR}), and the
    console's session secret and password hashes (a hash is a secret too: it can be
    attacked offline)."""
    for connection in config.connections.values():
        remember_secrets(connection, environ)
    remember_secrets(config.console, environ)
    redaction.remember(*(user.password_hash for user in config.console.users))
    with contextlib.suppress(ArgumentError):  # not a URL: the store says so when opened
        redaction.remember(make_url(config.database.url).password)


def check_files(config: Config) -> list[tuple[KeyPath, str]]:
    """What the config names on disk: CA bundles, drop folders and mappings folders.

    Cheap on purpose: a mappings folder is checked for its files and the ``role`` of each
    system file; the sync cycle validates the mappings themselves.
    """
    found: list[tuple[KeyPath, str]] = []
    for name, connection in config.connections.items():
        found.extend((("connections", name, *key), message)
                     for key, message in connection.path_problems())
    for index, pipeline in enumerate(config.pipelines):
        if pipeline.enabled:  # a disabled pipeline may wait for its mappings
            found.extend(_check_mappings(config, pipeline, ("pipelines", index)))
    found.extend(check_shared_crm_objects(config))
    return found


# --- two pipelines on one CRM object -------------------------------------------------------
# Each pipeline keys its tasks by its own name, so two pipelines that both see an
# opportunity each keep their own follow-up tasks on it (duplicates) and overwrite each
# other's outputs. They may share an object only when their CRM mapping files say how:
# disjoint scopes (both scope on one field, with different values: a Salesforce record type
# or picklist, a HubSpot deal pipeline), or one of them alone writes outputs and tasks.
# Both are what the sync obeys; a config key that only silenced this check would not be.
# This check compares connection settings; each cycle also claims its object under the org
# its login names (``sync.py``, ``store/claims.py``), which catches one org reached two ways.


@dataclass(frozen=True)
class CrmUse:
    """What one enabled pipeline does to its CRM object, read from its CRM mapping file."""

    index: int
    name: str
    org: tuple[str, ...]  # identifies the org/account (see each connection model's org())
    object: str  # as the file writes it
    scope: Mapping[str, str]
    writes: bool  # the file maps outputs or tasks
    file: Path

    def disjoint_from(self, other_scope: Mapping[str, str]) -> bool:
        """True when no record can be in this scope and in ``other_scope``: one field
        scoped to different values."""
        return any(key in other_scope and other_scope[key] != value
                   for key, value in self.scope.items())


def check_shared_crm_objects(config: Config) -> list[tuple[KeyPath, str]]:
    """A problem for each pair of enabled pipelines that would both write outputs or
    tasks to one CRM object of one org, with scopes that may overlap."""
    uses = [use for index, pipeline in enumerate(config.pipelines) if pipeline.enabled
            for use in [crm_use(config, pipeline, index)] if use is not None]
    found: list[tuple[KeyPath, str]] = []
    for later, second in enumerate(uses):
        for first in uses[:later]:
            if first.org != second.org or first.object.lower() != second.object.lower() \
                    or not (first.writes and second.writes) or first.disjoint_from(second.scope):
                continue
            crm = config.pipelines[second.index].crm
            found.append((("pipelines", second.index, "crm"), shared_object_problem(
                (first.name, first.file), second,
                f"{second.org[0]} {second.object} of one org (connection '{crm}')")))
    return found


def shared_object_problem(first: tuple[str, Path], second: CrmUse, what: str) -> str:
    """Why pipeline ``first`` (name, CRM mapping file) and ``second`` may not both write
    ``what`` (an object of one org), and the three ways to let them."""
    first_name, first_file = first
    return (f"pipelines '{first_name}' and '{second.name}' both write outputs and tasks "
            f"to {what}, so each would add its own follow-up tasks to the records both "
            "see, and overwrite the other's outputs. Say how they share it: make their "
            f"scopes disjoint (a `scope:` on the same field with different values in "
            f"{first_file} and {second.file}, e.g. a record type or a HubSpot deal "
            "pipeline), or let one own outputs and tasks (remove `outputs:` and `tasks:` "
            "from the other's file), or set `enabled: false` on one")


def crm_use(config: Config, pipeline: PipelineConfig, index: int) -> CrmUse | None:
    """What ``pipeline`` (the ``index``th) does to its CRM object (None: no CRM mapping
    file to read; the config and mappings checks say why)."""
    connection = config.connections.get(pipeline.crm)
    if connection is None or SYSTEMS[connection.system].read_only is not None:
        return None  # reported by _references
    file = pipeline.mappings / f"{connection.system}.yaml"
    if not file.is_file():
        return None  # reported by _check_mappings
    document, _ = read_yaml_file(file)
    data = document.data if document is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("object"), str):
        return None  # the mappings validation says why
    scope = data.get("scope")
    return CrmUse(index, pipeline.name, connection.org(pipeline.crm),
                  data["object"],
                  {str(k): str(v) for k, v in scope.items()} if isinstance(scope, dict)
                  else {},
                  bool(data.get("outputs")) or bool(data.get("tasks")), file)


def _check_mappings(config: Config, pipeline: PipelineConfig,
                    where: KeyPath) -> list[tuple[KeyPath, str]]:
    folder = pipeline.mappings
    if not folder.is_dir():
        return [((*where, "mappings"), f"folder {folder} not found")]
    found: list[tuple[KeyPath, str]] = []
    if not (folder / POLICY_FILE).is_file():
        found.append(((*where, "mappings"), f"{folder} has no {POLICY_FILE} (a mappings "
                      f"folder holds {POLICY_FILE} and one file per system)"))
    roles = _roles(folder)
    for side in ("prm", "crm"):
        connection = config.connections.get(getattr(pipeline, side))
        if connection is None:
            continue
        system = connection.system
        claimed = [s for s, role in roles.items() if role == side]
        if system not in roles:
            found.append(((*where, side), f"connection '{getattr(pipeline, side)}' is "
                          f"{system}, but {folder} has no {system}.yaml"))
        elif claimed and system not in claimed:
            found.append(((*where, side), f"connection '{getattr(pipeline, side)}' is "
                          f"{system}, but the {side.upper()} side of the mappings in {folder} "
                          f"is {claimed[0]} ({claimed[0]}.yaml has role: {side})"))
    return found


def _roles(folder: Path) -> dict[str, str | None]:
    """System file -> its ``role`` key, for each system file in the folder (None when the
    file cannot be read; the mappings validation says why)."""
    return {system: file.role for system, file in system_files(folder).items()}
