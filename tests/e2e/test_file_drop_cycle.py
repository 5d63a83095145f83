"""A sync cycle whose PRM side is a file drop (issue 14 item 4), against the sandbox's CRM.

A link in the drop folder to a token file outside it is refused by name in the cycle's
report and logs; the export beside it syncs; the token appears nowhere.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import yaml
from structlog.testing import capture_logs

from handoff_sync.config.load import load_config
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from handoff_sync.sync.cycle import PipelineRunner
from handoff_sync.testing.file_drop import file_drop_mappings
from tests.e2e.sync_support import configured_sandbox

TOKEN = "pat-na1-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
LINK_REFUSED = ("a symbolic link: links are not followed, so that nothing outside the drop "
                "folder can be read through one. Not read: copy or move the export itself "
                "into the folder and remove the link")

EXPORT = ("Registration ID,Deal Name,Customer,Website,Amount,Close Date,Status,Partner,"
          "Partner Rep,Competitors,Prospect Prepared,Last Modified\n"
          "R-1,Acme rollout,Acme Corp,https://www.acme.example/,125000.50,2026-06-30,"
          "Approved,Channel Co,pat@partner.example,Globex,yes,2026-03-01T10:00:00Z\n")


def drop_config(sandbox: SandboxServer, folder: Path) -> Path:
    """`init --sandbox`'s config with its PRM side replaced by a file drop."""
    config = configured_sandbox(sandbox, folder, database_url=f"sqlite:///{folder}/hs.db",
                                deals=4, partners=2)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    [pipeline] = data["pipelines"]
    data["connections"][pipeline["prm"]] = {
        "system": "files", "folder": str(folder / "exports"), "id_field": "Registration ID",
        "modified_field": "Last Modified", "settle_seconds": 0}
    pipeline["mappings"] = str(file_drop_mappings(folder / "file-mappings"))
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


def test_a_linked_token_file_is_refused_in_the_cycle_and_never_logged(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    config = load_config(drop_config(sandbox, tmp_path))
    (tmp_path / "token").write_text(TOKEN + "\n", encoding="utf-8")
    (exports / "registrations.csv").write_text(EXPORT, encoding="utf-8")
    old = time.time() - 60
    os.utime(exports / "registrations.csv", (old, old))
    (exports / "latest.csv").symlink_to(tmp_path / "token")
    store = Store.connect(config.database.url)
    store.migrate()
    runner = PipelineRunner(config, config.pipelines[0], store, holder="test")
    try:
        with capture_logs() as logs:
            report = runner.run_cycle()
    finally:
        runner.close()
        store.close()
    assert report.counts.get("records_read_prm") == 1, report.message
    assert report.counts["rows_skipped"] == 1
    assert [entry["problem"] for entry in logs if entry["event"] == "row_skipped"] == [
        f"latest.csv: {LINK_REFUSED}"]
    shown = repr(logs) + repr(report.summary()) + repr(report.failures) + str(report.message)
    assert TOKEN not in shown
