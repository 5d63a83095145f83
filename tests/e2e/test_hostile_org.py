"""A hostile org, synced from the command line as an operator would (issue 14).

The same seeded org is synced from nothing twice: once clean, once after partners and
admins have left in it the bad values issue 14 found: amounts no system can hold (1e400,
1e-400, nan), a text longer than its Salesforce field, a partner name that is a
spreadsheet formula wrapped in terminal escapes, SOQL metacharacters, emoji, and a
second active Salesforce user with an AE's email. The hostile run must sync everything
else exactly as the clean run did, in its one cycle; `review` must name each problem
once; `status`, `review`, the report in every format, the logs, /metrics and /readyz
must show no traceback, no escape sequence and no live formula; and no secret may appear
in any of them, nor in the database.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hubspot import HubSpot
from simple_salesforce import Salesforce

from handoff_sync.cli.main import main
from handoff_sync.config.load import load_config
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import sqlite_url_for
from tests.e2e.sync_support import configured_sandbox, daemon_for, held_in_portal, http_get

DEALS, PARTNERS, SEED = 40, 4, 7
HOSTILE_PARTNER = ('=HYPERLINK("http://evil.example/x","Acme")'
                   "\x1b]8;;http://evil.example\x1b\\ Partners\x1b[2J\x1b[31m")
SOQL_NAME = "O'Brien Group' OR Name != '"
EMOJI_NEED = "Scale 🚀 to 12 regions; naïve ETL out"
LONG_BUYER = "Dana Lee, CFO; " + "signs off after the board review. " * 9  # 321 characters
TWIN_OF = "maria.reyes@vendor.example"  # an AE who owns seeded opportunities
# Written with the time of the run (the two runs are seconds apart), not with what synced.
SF_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"
BRIEF_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")  # as briefs write instants
BRIEF_FORMAT = "%Y-%m-%d %H:%M UTC"
STAMPS = ("LastModifiedDate", "SystemModstamp", "Handoff_Last_Synced__c", "Handoff_SLA_Due__c")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run a command with JSON logs at info level; its exit code and all it printed."""
    capsys.readouterr()
    code = main(["--log-format", "json", "--log-level", "info", *argv])
    out, err = capsys.readouterr()
    return code, out + err


def fresh_org(server: SandboxServer, folder: Path,
              capsys: pytest.CaptureFixture[str]) -> Path:
    server.sandbox.reset()
    folder.mkdir()
    config = configured_sandbox(server, folder, deals=DEALS, partners=PARTNERS,
                                random_seed=SEED,
                                database_url=sqlite_url_for(folder / "state.db"))
    assert cli(capsys, "migrate", "--config", str(config))[0] == 0
    return config


def sync_once(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[dict[str, Any], str]:
    code, printed = cli(capsys, "sync", "--once", "--json", "--config", str(config))
    assert code == 0, printed
    summary = json.loads(printed[:printed.rindex("]") + 1][printed.index("["):])[0]
    return summary, printed


def salesforce_state(sf: Salesforce) -> dict[str, dict[str, Any]]:
    """Every opportunity (fields as Salesforce holds them, run stamps left out) with the
    subject, status and owner of each of its handoff tasks. Ids are the same in both
    runs: the sandbox numbers records from the same seed alike."""
    fields = [f["name"] for f in sf.Opportunity.describe()["fields"]
              if f["name"] not in STAMPS]
    rows = sf.query_all(f"SELECT {', '.join(fields)} FROM Opportunity")["records"]
    tasks: dict[str, list[tuple[str, str, str]]] = {}
    for task in sf.query_all("SELECT WhatId, Subject, Status, OwnerId FROM Task "
                             "WHERE Handoff_Task_Key__c != null")["records"]:
        tasks.setdefault(task["WhatId"], []).append(
            (task["Subject"], task["Status"], task["OwnerId"]))
    return {row["Id"]: {**{k: v for k, v in row.items() if k != "attributes"},
                        "tasks": sorted(tasks.get(row["Id"], []))} for row in rows}




def secret_values(folder: Path) -> list[str]:
    """What must never be readable in any output: the HubSpot token and every line of
    the Salesforce private key's body."""
    secrets = folder / "secrets"
    token = (secrets / "hubspot-access-token").read_text(encoding="utf-8").strip()
    key = [line for line in (secrets / "salesforce-jwt-key.pem").read_text(
        encoding="utf-8").splitlines() if line and not line.startswith("-----")]
    assert token and key
    return [token, *key]




def scrape_daemon(config_path: Path) -> tuple[int, str, str]:
    """/readyz and /metrics of the daemon after one more (quiet) cycle on this store."""
    config_path.write_text(config_path.read_text(encoding="utf-8").replace(
        "port: 9464", "port: 0"), encoding="utf-8")
    daemon = daemon_for(load_config(config_path))
    daemon.start()
    try:
        url = daemon.health_url
        assert url is not None
        daemon.run_pipeline("partners")
        status, ready = http_get(url + "/readyz")
        return status, ready, http_get(url + "/metrics")[1]
    finally:
        daemon.shutdown()


def test_a_hostile_org_syncs_everything_else_in_one_cycle_and_leaks_nothing(
        sandbox: SandboxServer, sf: Salesforce, hs: HubSpot, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    clean = fresh_org(sandbox, tmp_path / "clean", capsys)
    summary, _ = sync_once(capsys, clean)
    assert summary["outcome"] == "ok"
    expected = salesforce_state(sf)

    config = fresh_org(sandbox, tmp_path / "hostile", capsys)
    linked = sorted((d for d in hs.crm.deals.basic_api.get_page(
        limit=100, properties=["crm_opportunity_id"]).results
        if d.properties["crm_opportunity_id"]), key=lambda d: int(d.id))
    owners = {o["Id"]: o["OwnerId"] for o in sf.query_all(
        "SELECT Id, OwnerId FROM Opportunity")["records"]}
    twin_owner = next(u["Id"] for u in sf.query_all("SELECT Id, Email FROM User")["records"]
                      if u["Email"] == TWIN_OF)
    targets = [d for d in linked if owners[d.properties["crm_opportunity_id"]] != twin_owner]
    huge, tiny, nan, wordy, formula, quoted, emoji = targets[:7]
    for deal, value in ((huge, "1e400"), (tiny, "1e-400"), (nan, "nan")):
        held_in_portal(sandbox, deal.id, "amount", value)
    update = hs.crm.deals.basic_api.update
    update(wordy.id, {"properties": {"economic_buyer": LONG_BUYER}})
    update(formula.id, {"properties": {"partner_account_name": HOSTILE_PARTNER}})
    update(quoted.id, {"properties": {"dealname": SOQL_NAME, "need": SOQL_NAME}})
    update(emoji.id, {"properties": {"need": EMOJI_NEED}})
    twin = sf.User.create({"Username": "twin@hostile.example", "Email": TWIN_OF,
                           "FirstName": "Twin", "LastName": "Account"})["id"]

    summary, sync_printed = sync_once(capsys, config)
    assert summary["outcome"] == "ok", summary
    assert summary["kind"] == "full" and summary["errors"] == []

    # Everything else synced exactly as in the clean org, in that one cycle: each bad
    # value changed its own field only, and the twin changed only task owners.
    def opp(deal: Any) -> str:
        return str(deal.properties["crm_opportunity_id"])

    differs = {opp(huge): {"Amount"}, opp(tiny): {"Amount"}, opp(nan): {"Amount"},
               opp(wordy): {"Economic_Buyer__c"}, opp(quoted): {"Need__c"},
               opp(emoji): {"Need__c"}}
    got = salesforce_state(sf)
    assert got.keys() == expected.keys()
    for record_id, fields in got.items():
        want = expected[record_id]
        if owners[record_id] == twin_owner:
            assert {s for s, _, _ in fields.pop("tasks")} == {s for s, _, _ in want["tasks"]}
            want = {k: v for k, v in want.items() if k != "tasks"}
        changed = {name for name in want if not _same(fields[name], want[name])}
        assert changed <= differs.get(record_id, set()) | {"Handoff_Brief__c"}, (
            record_id, {n: (want[n], fields[n]) for n in changed})
        if "Handoff_Brief__c" in changed:  # the brief quotes the partner's facts
            assert record_id in differs or record_id == opp(formula), record_id
    assert got[opp(huge)]["Amount"] == expected[opp(huge)]["Amount"]  # not 0, not inf
    assert got[opp(tiny)]["Amount"] == expected[opp(tiny)]["Amount"]
    assert got[opp(wordy)]["Economic_Buyer__c"] == expected[opp(wordy)]["Economic_Buyer__c"]
    assert got[opp(quoted)]["Need__c"] == SOQL_NAME  # carried verbatim, injected nowhere
    assert got[opp(emoji)]["Need__c"] == EMOJI_NEED
    twin_ids = "', '".join(r for r in owners if owners[r] == twin_owner)
    twin_tasks = sf.query_all(
        "SELECT Id, OwnerId, Subject, WhatId FROM Task WHERE Handoff_Task_Key__c != null "
        f"AND WhatId IN ('{twin_ids}')")["records"]
    assert twin_tasks and all(t["OwnerId"] not in (twin, twin_owner) for t in twin_tasks)

    # `review` names each problem once.
    code, review_json = cli(capsys, "review", "--config", str(config), "--json")
    assert code == 0
    items = json.loads(review_json[review_json.index("["):review_json.rindex("]") + 1])
    by_kind: dict[str, list[str]] = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item["key"])
    assert sorted(by_kind["invalid_value"]) == sorted([
        f"invalid_value:prm:{huge.id}:prm:amount", f"invalid_value:prm:{tiny.id}:prm:amount",
        f"invalid_value:prm:{nan.id}:prm:amount",
        f"invalid_value:prm:{wordy.id}:crm:economic_buyer"])
    assert by_kind["duplicate_owner_email"] == [f"duplicate_owner_email:crm:{TWIN_OF}"]
    assert len({item["key"] for item in items}) == len(items)
    # ... and the log names each once: when it opened, not every cycle it stands.
    opened = [json.loads(line)["key"] for line in sync_printed.splitlines()
              if line.startswith("{") and '"review_opened"' in line]
    assert sorted(opened) == sorted(item["key"] for item in items)
    _, quiet = sync_once(capsys, config)
    assert '"review_opened"' not in quiet and '"review_resolved"' not in quiet

    # Every output a person or a program reads.
    printed = {"sync": sync_printed, "review --json": review_json}
    for name, argv in (("status", ["status"]), ("status --json", ["status", "--json"]),
                       ("review", ["review"]), ("plan", ["plan"]),
                       ("report table", ["report", "--format", "table"]),
                       ("report json", ["report", "--format", "json"])):
        code, text = cli(capsys, *argv, "--config", str(config))
        assert code == 0, (name, text)
        printed[name] = text
    report_csv = tmp_path / "report.csv"
    report_html = tmp_path / "report.html"
    for fmt, out in (("csv", report_csv), ("html", report_html)):
        code, text = cli(capsys, "report", "--format", fmt, "--out", str(out),
                         "--config", str(config))
        assert code == 0, text
        printed[f"report {fmt}"] = text
    status, ready, metrics = scrape_daemon(config)
    assert status == 200, ready
    printed |= {"/readyz": ready, "/metrics": metrics}

    for name in ("status", "review", "plan", "report table"):
        assert "\x1b" not in printed[name] and "\x9b" not in printed[name], name
    assert "Acme" in printed["report table"]  # the partner is shown, its escapes are not
    cells = [cell for row in csv.reader(io.StringIO(report_csv.read_text(encoding="utf-8")))
             for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    assert not [c for c in cells if c[:1] in ("=", "+", "@") or (
        c[:1] == "-" and not _number(c))], "a cell a spreadsheet would run as a formula"
    assert "handoff_sync_last_success_timestamp_seconds{" in metrics

    with sqlite3.connect(config.parent / "state.db") as db:
        dump = "\n".join(db.iterdump())
    everything = {**printed, "report.csv": report_csv.read_text(encoding="utf-8"),
                  "report.html": report_html.read_text(encoding="utf-8"), "database": dump}
    for name, text in everything.items():
        assert "Traceback" not in text, name
        for secret in secret_values(config.parent):
            assert secret not in text, f"a secret in {name}"


def _same(got: Any, want: Any) -> bool:
    """Equal, or two instants seconds apart: the seed dates records relative to the
    moment it runs, and the two runs seed seconds apart. A text quoting instants (the
    brief's "entered 2026-12-06 17:41 UTC") is the same when it differs only in them and
    they are that close: a minute may turn between the runs."""
    if got == want:
        return True
    if isinstance(got, str) and isinstance(want, str) and BRIEF_TIME.search(want):
        if BRIEF_TIME.sub("", got) != BRIEF_TIME.sub("", want):
            return False
        pairs = zip(BRIEF_TIME.findall(got), BRIEF_TIME.findall(want), strict=False)
        return all(abs((datetime.strptime(a, BRIEF_FORMAT)
                        - datetime.strptime(b, BRIEF_FORMAT)).total_seconds()) < 120
                   for a, b in pairs)
    try:
        apart = datetime.strptime(got, SF_TIME) - datetime.strptime(want, SF_TIME)
    except (TypeError, ValueError):
        return False
    return abs(apart.total_seconds()) < 120


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return False
    return True
