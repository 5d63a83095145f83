"""The mapping packs shipped with handoff-sync, by name, and which systems each connects.

A pack is a mappings folder. ``default`` is ``mappings/`` itself (PRM: the HubSpot partner
pipeline, CRM: Salesforce Opportunity); each folder under ``mappings/packs/`` is one more,
named after its folder (``salesforce-prm-hubspot-crm``: PRM Salesforce
Deal_Registration__c, CRM HubSpot deals). `init --pack NAME` writes connections for the
systems the pack's files map, read from their ``role:`` and ``object:`` keys (the cheap
reading ``load_config`` does too), so a new pack is a new folder and no code.
"""

from __future__ import annotations

import site
import sys
from dataclasses import dataclass
from pathlib import Path

import handoff_sync
from connectors.registry import SYSTEMS
from handoff_sync.config.fields import POLICY_FILE
from handoff_sync.config.template import DEFAULT_SIDES
from handoff_sync.problems.yaml_source import read_yaml_file

DEFAULT_PACK = "default"
PACKS_FOLDER = "packs"


@dataclass(frozen=True, slots=True)
class SystemFile:
    """What one system file of a mappings folder says of itself (None: not readable)."""

    system: str
    role: str | None
    object: str | None


@dataclass(frozen=True, slots=True)
class Pack:
    """A mappings folder and the two sides it maps."""

    name: str  # "" for a folder that is not a shipped pack
    folder: Path
    prm: SystemFile
    crm: SystemFile

    def label(self) -> str:
        """'pack default: HubSpot deals (PRM) -> Salesforce Opportunity (CRM)'."""
        named = f"pack {self.name}" if self.name else f"the mappings in {self.folder}"
        return f"{named}: {self.describe()}"

    def describe(self) -> str:
        """'HubSpot deals (PRM) -> Salesforce Opportunity (CRM)'."""
        return " -> ".join(f"{SYSTEMS[side.system].title} {side.object} ({role})"
                           for side, role in ((self.prm, "PRM"), (self.crm, "CRM")))


def installed_default() -> Pack:
    """What ``mappings/`` maps, for an installation without that folder (a wheel installs
    the package alone): the template still names the right systems."""
    return Pack(DEFAULT_PACK, shipped_mappings(),
                SystemFile(DEFAULT_SIDES["prm"], "prm", "deals"),
                SystemFile(DEFAULT_SIDES["crm"], "crm", "Opportunity"))


def shipped_mappings() -> Path:
    """The shipped mappings folder: the checkout's beside the package (a source or
    editable install), else the copy an install puts in <prefix>/share/handoff-sync
    (setup.cfg's data_files: pip install ., pipx, the Docker image)."""
    checkout = Path(handoff_sync.__file__).resolve().parent.parent / "mappings"
    if checkout.is_dir():
        return checkout
    for prefix in (sys.prefix, site.getuserbase()):  # a venv or system install; --user
        installed = Path(prefix) / "share" / "handoff-sync" / "mappings"
        if installed.is_dir():
            return installed
    return checkout  # the caller's "does not exist" names it


def shipped_packs(root: Path | None = None) -> dict[str, Pack]:
    """Every pack under ``root`` (default: the shipped mappings), ``default`` first; a
    folder whose files do not say one PRM and one CRM side is not a pack."""
    root = shipped_mappings() if root is None else root
    folders = [(DEFAULT_PACK, root)]
    if (root / PACKS_FOLDER).is_dir():
        folders += sorted((p.name, p) for p in (root / PACKS_FOLDER).iterdir() if p.is_dir())
    packs = {}
    for name, folder in folders:
        pack = read_pack(name, folder)
        if pack is not None:
            packs[name] = pack
    return packs


def read_pack(name: str, folder: Path) -> Pack | None:
    """The pack in ``folder``: None unless it holds the policy file and exactly one system
    file claims each role (the mappings validation says what else is wrong)."""
    if not (folder / POLICY_FILE).is_file():
        return None
    files = system_files(folder).values()
    prm = [f for f in files if f.role == "prm"]
    crm = [f for f in files if f.role == "crm"]
    if len(prm) != 1 or len(crm) != 1:
        return None
    return Pack(name, folder, prm[0], crm[0])


def system_files(folder: Path) -> dict[str, SystemFile]:
    """System name -> what its ``<system>.yaml`` in ``folder`` says (role and object),
    for each system file there."""
    found: dict[str, SystemFile] = {}
    for system in SYSTEMS:
        file = folder / f"{system}.yaml"
        if not file.is_file():
            continue
        document, _ = read_yaml_file(file)
        data = document.data if document is not None else None
        values = [data.get(key) if isinstance(data, dict) else None for key in ("role", "object")]
        role, obj = (value if isinstance(value, str) else None for value in values)
        found[system] = SystemFile(system, role, obj)
    return found
