"""A house layer rule (docs/architecture.md), checked on the source rather than trusted:
the sandbox imports nothing of handoff_sync outside its own package. It stands in for the
vendors, so it may not share code, and with it bugs, with the product it tests."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path, root: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in a file, at any depth (a function's late import
    counts too); relative imports resolved against the file's package."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module == "handoff_sync":  # `from handoff_sync import redaction`
                for alias in node.names:
                    yield node.lineno, f"handoff_sync.{alias.name}"
            else:
                yield node.lineno, module


def breaches(folder: str, allowed: str, root: Path = ROOT) -> list[str]:
    """Each import of handoff_sync under ``folder`` outside the ``allowed`` package."""
    return [f"{path.relative_to(root)}:{line} imports {module}"
            for path in sorted((root / folder).rglob("*.py"))
            for line, module in imports_of(path, root)
            if (module == "handoff_sync" or module.startswith("handoff_sync."))
            and module != allowed and not module.startswith(allowed + ".")]


def test_the_sandbox_imports_nothing_of_handoff_sync_outside_the_sandbox() -> None:
    assert breaches("handoff_sync/sandbox", "handoff_sync.sandbox") == []


def test_the_check_sees_every_form_of_import(tmp_path: Path) -> None:
    """The rule cannot pass by missing an import form (a test that cannot fail is none)."""
    sample = tmp_path / "handoff_sync" / "sandbox" / "probe.py"
    sample.parent.mkdir(parents=True)
    sample.write_text("import handoff_sync.loopback\n"
                      "from handoff_sync import redaction\n"
                      "from .. import logs\n"
                      "def late() -> None:\n"
                      "    from handoff_sync.config import load_config\n"
                      "from . import tls\n", encoding="utf-8")
    found = breaches("handoff_sync/sandbox", "handoff_sync.sandbox", tmp_path)
    assert sorted(b.split(" imports ")[1] for b in found) == [
        "handoff_sync.config", "handoff_sync.logs", "handoff_sync.loopback",
        "handoff_sync.redaction"]
