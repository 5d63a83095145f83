"""/reports over HTTP against a synced sandbox world: every section of `handoff-sync
report` with its charts, filters that change the figures (checked against the unfiltered
report's own table), htmx fragments, downloads of the same report, and bad values
answered at their field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.console.pages import reports
from handoff_sync.model import Role
from handoff_sync.report import SECTIONS
from handoff_sync.sandbox.server import SandboxServer
from tests.console.support import VIEWER, client_for, console_world
from tests.e2e.sync_support import held_in_portal


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The page waits this long for its report (0.25 s in the console, which a small
    # store's report takes on a quiet machine): these tests are about the figures.
    # test_reports_pending is about a report that takes longer.
    monkeypatch.setattr(reports, "WAIT", 60.0)
    monkeypatch.setattr(reports, "WAIT_WITH_OLDER", 60.0)
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=40) as world:
        yield world


def kpi(html: str, label: str) -> int:
    """The headline tile ``label``'s value (the first one: Handoff volume's)."""
    found = re.search(rf'<div class="kpi"><b[^>]*>([\d,]+)</b><span>{re.escape(label)}</span>',
                      html)
    assert found, f"no {label!r} tile"
    return int(found.group(1).replace(",", ""))


def volume_rows(html: str) -> dict[str, int]:
    """The "Deals by partner" table of the volume section: group -> total (not the
    "all" row under it)."""
    section = html[html.index('id="volume"'):html.index('id="breakdown"')]
    table = section[section.index("<h3>Deals by"):]
    rows = re.findall(r'<tr><td class="text">([^<]*)</td>(?:<td>\d+</td>){3}<td>(\d+)</td></tr>',
                      table)
    return {group: int(total) for group, total in rows[:-1]}


def options(html: str, name: str) -> list[str]:
    select = html[html.index(f'<select name="{name}"'):]
    select = select[:select.index("</select>")]
    return [v for v in re.findall(r'<option value="([^"]*)"', select) if v]


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<span class="field-error" id="error-{name}">([^<]*)</span>', html)
    assert found, f"no message at the {name} field"
    return found.group(1)


def test_the_page_shows_every_section_with_its_charts_and_links_to_them(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    page = client.get("/reports")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/reports" class="current" aria-current="page">Reports</a>' in html
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
        assert f'<a href="#{section}">' in html  # the section navigation
    assert html.count("<svg") >= 8  # the report's charts, inline
    assert 'href="/reports/report.css"' in html
    assert "Traceback" not in html
    css = client.get("/reports/report.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".report .kpis{" in css.text and "\nbody" not in css.text
    assert kpi(html, "deals") > 0


def test_a_partner_filter_narrows_the_figures_to_that_partners_deals(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    everything = client.get("/reports").text
    by_partner = volume_rows(everything)
    partners = options(everything, "partner")
    assert set(partners) == set(by_partner)  # the choices are the report's own groups
    partner = next(p for p in partners if p != "(direct)")
    assert 0 < by_partner[partner] < kpi(everything, "deals")

    page = client.get("/reports", params={"partner": partner})
    assert page.status_code == 200
    assert kpi(page.text, "deals") == by_partner[partner]
    assert volume_rows(page.text) == {partner: by_partner[partner]}
    assert f"only partner {partner}" in page.text
    assert f'<option value="{partner}" selected>' in page.text
    # The downloads are this report: the same filter, the same figures.
    link = re.search(r'<a href="(/reports/report\.json\?[^"]+)" download>', page.text)
    assert link and "partner=" in link.group(1)
    data = json.loads(client.get(link.group(1).replace("&amp;", "&")).text)
    assert data["filters"] == {"partner": [partner]}
    assert data["volume"]["total"]["value"] == by_partner[partner]
    csv = client.get("/reports/report.csv", params={"partner": partner})
    assert csv.headers["content-disposition"].endswith('.csv"')
    assert f"report,,filter.partner,{partner}" in csv.text


def test_segment_region_type_and_period_each_narrow_the_report(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    everything = client.get("/reports").text
    total = kpi(everything, "deals")
    for name in ("segment", "region", "handoff_type"):
        values = options(everything, name)
        assert values, name
        counts = [kpi(client.get("/reports", params={name: v}).text, "deals")
                  for v in values]
        assert sum(counts) == total, name  # the groups split the deals between them
    # A period start after every close date keeps the open deals only.
    late = client.get("/reports", params={"since": "2026-03-01", "by": "region"})
    assert late.status_code == 200
    assert "since 1 Mar 2026" in late.text and "groups by region" in late.text
    assert kpi(late.text, "deals") <= total


def test_a_period_end_narrows_the_report_and_stays_in_its_links(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    total = kpi(client.get("/reports").text, "deals")
    # An end before every deal was created leaves none; one in the future all of them.
    empty = client.get("/reports", params={"until": "2000-01-31"})
    assert empty.status_code == 200 and "up to 31 Jan 2000" in empty.text
    assert kpi(empty.text, "deals") == 0
    later = client.get("/reports", params={"since": "2026-01-01", "until": "2026-12-31"})
    assert "1 Jan 2026 – 31 Dec 2026" in later.text
    assert kpi(later.text, "deals") == kpi(client.get(
        "/reports", params={"since": "2026-01-01"}).text, "deals") <= total
    assert 'name="until" value="2026-12-31"' in later.text  # the form keeps it
    link = re.search(r'<a href="(/reports/report\.json\?[^"]+)" download>', later.text)
    assert link and "until=2026-12-31" in link.group(1)
    data = json.loads(client.get(link.group(1).replace("&amp;", "&")).text)
    # The end is the first instant after the period: the last day is whole.
    assert (data["since"], data["until"]) == ("2026-01-01T00:00:00+00:00",
                                              "2027-01-01T00:00:00+00:00")
    csv = client.get("/reports/report.csv", params={"until": "2000-01-31"})
    assert "report,,until,2000-02-01T00:00:00+00:00" in csv.text
    # A day written without dashes is the same whole day.
    basic = client.get("/reports", params={"since": "20260101", "until": "20261231"})
    assert "1 Jan 2026 – 31 Dec 2026" in basic.text
    assert kpi(basic.text, "deals") == kpi(later.text, "deals")


def test_htmx_gets_the_view_alone_and_a_plain_get_the_whole_page(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    fragment = client.get("/reports", params={"by": "segment"},
                          headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["vary"]
    assert fragment.text.lstrip().startswith('<div id="reports-view">')
    assert "<html" not in fragment.text and '<section id="funnel"' in fragment.text
    restore = client.get("/reports", headers={"HX-Request": "true",
                                              "HX-History-Restore-Request": "true"})
    assert "<html" in restore.text
    form = re.search(r'<form class="card report-filters" method="get" action="/reports"',
                     client.get("/reports").text)
    assert form  # without script the form is a plain GET: the URL is the report


def test_bad_values_get_a_message_at_their_field_and_no_report(
        world: dict[str, Any]) -> None:
    client = client_for(world["context"])
    page = client.get("/reports", params={"partner": "Nobody & Co", "since": "2026-13-01",
                                          "by": "colour"})
    assert page.status_code == 400
    html = page.text
    assert "No deal of the &#39;partners&#39; pipeline" in field_error(html, "partner")
    assert "&#39;Nobody &amp; Co&#39;: pick one from the list" in field_error(html, "partner")
    assert field_error(html, "since").startswith("&#39;2026-13-01&#39; is not a date: use "
                                                 "a date as YYYY-MM-DD")
    assert field_error(html, "by").startswith("Cannot group by &#39;colour&#39;")
    assert '<section id="volume"' not in html and "Traceback" not in html
    assert 'aria-invalid="true"' in html
    future = client.get("/reports", params={"since": "2027-01-01"})
    assert future.status_code == 400
    assert field_error(future.text, "since") == (
        "2027-01-01 is in the future: pick a day up to 2026-03-02.")
    backwards = client.get("/reports", params={"since": "2026-02-01", "until": "2026-01-31"})
    assert backwards.status_code == 400
    assert field_error(backwards.text, "until") == (
        "The period ends on 2026-01-31, before it starts on 2026-02-01: pick an end on or "
        "after the start.")
    not_a_day = client.get("/reports/report.json", params={"until": "2026-02-30"})
    assert not_a_day.status_code == 400
    assert not_a_day.text.startswith("until: '2026-02-30' is not a date: use a date as "
                                     "YYYY-MM-DD, e.g. 2026-12-31, the last day")
    unknown_type = client.get("/reports", params={"handoff_type": "<b>x</b>"})
    assert "&lt;b&gt;x&lt;/b&gt;" in field_error(unknown_type.text, "handoff_type")
    download = client.get("/reports/report.csv", params={"region": "Atlantis"})
    assert download.status_code == 400
    assert download.text.startswith("region: No deal of the 'partners' pipeline")
    assert client.get("/reports/report.xml").status_code == 404
    pipeline = client.get("/reports", params={"pipeline": "nope"})
    assert pipeline.status_code == 400
    assert field_error(pipeline.text, "pipeline").startswith("No pipeline &#39;nope&#39;")


def test_a_viewer_sees_the_reports_too(world: dict[str, Any]) -> None:
    page = client_for(world["context"], VIEWER).get("/reports")
    assert page.status_code == 200 and '<section id="scorecard"' in page.text


def test_a_hostile_partner_name_is_text_in_the_filters_and_the_charts(
        sandbox: SandboxServer, world: dict[str, Any]) -> None:
    store, runner = world["store"], world["runner"]
    deal = sorted(store.load_pipeline(runner.pipeline.name).mirror[Role.PRM])[0]
    held_in_portal(sandbox, deal, "partner_account_name", "<script>alert(1)</script>")
    runner.run_cycle()
    client = client_for(world["context"])
    html = client.get("/reports").text
    assert "<script>alert(1)</script>" not in html
    assert '<option value="&lt;script&gt;alert(1)&lt;/script&gt;">' in html
    narrowed = client.get("/reports", params={"partner": "<script>alert(1)</script>"})
    assert narrowed.status_code == 200 and kpi(narrowed.text, "deals") == 1
    assert "<script>alert(1)</script>" not in narrowed.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in narrowed.text
