"""The rules of the house (docs: ../shared/docs/architecture.md, "Layout"), checked as code:
the import-linter contracts in .importlinter pass, and they are not blind - a breach of each
kind planted in a copy of the source makes them fail, naming the contract.

Run them by hand with `lint-imports` from the repository root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("handoff_sync", "connectors", "migrations")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the source under ``root`` (its packages first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
         "sys.exit(lint_imports(no_cache=True, no_logo=True))"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_the_code_keeps_every_contract() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The source and the contracts, copied so breaches can be planted."""
    root = tmp_path_factory.mktemp("house")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, root / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", root / ".importlinter")
    return root


BREACHES = {
    # contract name (as .importlinter words it) -> (file to add, its text)
    "Connectors import nothing of handoff_sync":
        ("connectors/probe.py", "from handoff_sync.model import Role\n"),
    "The engine is pure":
        ("handoff_sync/engine/probe.py", "import sqlalchemy\n"),
    "Layers, top to bottom":
        ("handoff_sync/store/probe.py", "def late() -> None:\n"
                                        "    from handoff_sync.sync import cycle\n"),
    "The sandbox stands alone":
        ("handoff_sync/sandbox/probe.py", "from handoff_sync.safety import redaction\n"),
    "Nothing imports the migrations":
        ("handoff_sync/store/probe.py", "import migrations\n"),
    "Mapping: the policy builds on the system maps":
        ("handoff_sync/mapping/system/probe.py", "from handoff_sync.mapping.policy import gates\n"),
    "The test kit (handoff_sync.testing)":
        ("handoff_sync/store/probe.py", "from handoff_sync.testing import clock\n"),
    "The test kit: only its contract suite imports pytest":
        ("handoff_sync/testing/probe.py", "import pytest\n"),
    "No cycles between packages":
        ("handoff_sync/report/probe.py", "from handoff_sync.report import figures\n"
                                         "def back() -> None: ...\n"),
}


@pytest.mark.parametrize("contract", sorted(BREACHES))
def test_each_contract_catches_its_breach(copy: Path, contract: str) -> None:
    file, text = BREACHES[contract]
    probe = copy / file
    extra: Path | None = None
    if contract == "No cycles between packages":  # figures -> probe as well: a cycle
        extra = copy / "handoff_sync/report/figures.py"
        original = extra.read_text(encoding="utf-8")
        extra.write_text(original + "\nfrom handoff_sync.report import probe  # noqa\n",
                         encoding="utf-8")
    probe.write_text(text, encoding="utf-8")
    try:
        result = lint(copy)
    finally:
        probe.unlink()
        if extra is not None:
            extra.write_text(original, encoding="utf-8")
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines()
              if line.endswith("BROKEN") or " BROKEN (" in line]
    assert any(line.startswith(contract) for line in broken), result.stdout


# The house's size rules (issue 15): small modules a newcomer can read, a root that
# holds only what every layer shares. The SOQL parser is one grammar, kept whole.
MAX_MODULE_LINES = 600
LONG_ON_PURPOSE = {"handoff_sync/sandbox/salesforce/soql.py"}
ROOT_MODULES = {"__init__.py", "model.py", "errors.py"}


def test_no_module_is_over_600_lines() -> None:
    long = {str(path.relative_to(ROOT)): lines
            for package in ("handoff_sync", "connectors")
            for path in (ROOT / package).rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert set(long) == LONG_ON_PURPOSE, long


def test_the_root_of_handoff_sync_holds_only_what_every_layer_shares() -> None:
    assert {path.name for path in (ROOT / "handoff_sync").glob("*.py")} == ROOT_MODULES
