"""/reports in headless Chromium at 1280 px: the charts drawn, nothing wider than the
page, a filter picked in the form swapping the report in place (htmx) with a URL to
share, the section bar taking the reader to a section, and a bad value's message at its
field, and a report computed in the background (console/jobs.py) replacing the "computing"
panel, then the older figures after a cycle, by itself. Screenshots of each are kept
(support.artefacts_folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from handoff_sync.console.jobs import Jobs
from handoff_sync.sandbox.server import SandboxServer
from tests.console.support import (
    artefacts_folder,
    browser_login,
    chrome,
    console_world,
    job_threads_busy,
    live_console,
    swap_wait,
    text_at,
)
from tests.console.support import screenshot as full_page

# Elements wider than their box (a chart, a table, a tile): what a reader would have to
# scroll sideways for. The tables of many columns may wrap their cells, never overflow.
OVERFLOWING = """
const page = document.documentElement.clientWidth;
const wide = [];
for (const el of document.querySelectorAll('main, .card, .report section, .report svg, '
                                           + '.report table, .kpi, .report-sections')) {
  const box = el.getBoundingClientRect();
  if (box.right > page + 1 || el.scrollWidth > el.clientWidth + 1)
    wide.push(el.tagName + ' ' + (el.id || el.getAttribute('class') || ''));
}
return [document.documentElement.scrollWidth - page, wide];
"""


def screenshot(driver: Any, folder: Path, name: str) -> Path:
    """A full-page screenshot from a 1280 x 900 window (the last one grew it)."""
    driver.set_window_size(1280, 900)
    return full_page(driver, folder, name)


@pytest.fixture
def world(sandbox: SandboxServer, tmp_path: Path) -> Any:
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=60, cycles=2) as world:
        yield world


def test_reports_in_a_browser(world: dict[str, Any],
                              tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    folder = artefacts_folder(tmp_path_factory, "reports")
    with live_console(world["context"]) as base, chrome() as driver:
        browser_login(driver, base)
        driver.get(f"{base}/reports")
        wait = WebDriverWait(driver, 15)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".report section#readiness"))

        charts = driver.find_elements(By.CSS_SELECTOR, ".report svg")
        assert len(charts) >= 8
        drawn = [c for c in charts if c.is_displayed() and c.size["width"] > 100
                 and c.size["height"] > 20]
        assert len(drawn) == len(charts), [
            (c.is_displayed(), c.size, c.get_attribute("aria-label"),
             c.find_element(By.XPATH, "ancestor::section").get_attribute("id"))
            for c in charts if c not in drawn]
        assert driver.execute_script(OVERFLOWING) == [0, []]
        screenshot(driver, folder, "reports")

        # The section bar takes the reader to a section, and stays on screen.
        driver.set_window_size(1280, 900)
        driver.find_element(By.CSS_SELECTOR, '.report-sections a[href="#scorecard"]').click()
        wait.until(lambda d: d.execute_script(
            "return Math.abs(document.getElementById('scorecard')"
            ".getBoundingClientRect().top) < 200"))
        bar = driver.find_element(By.CSS_SELECTOR, ".report-sections")
        assert bar.is_displayed() and bar.location_once_scrolled_into_view["y"] >= 0
        driver.save_screenshot(str(folder / "reports-section-link.png"))

        # Picking a partner swaps the report in place and puts the filter in the URL.
        driver.execute_script("window.scrollTo(0, 0)")
        picker = Select(driver.find_element(By.NAME, "partner"))
        partner = next(o.get_attribute("value") for o in picker.options
                       if o.get_attribute("value") not in ("", "(direct)"))
        driver.execute_script("window.marker = 'same page'")  # gone if the page reloads
        picker.select_by_value(partner)
        wait.until(lambda d: parse_qs(urlparse(d.current_url).query).get("partner")
                   == [partner])
        wait.until(lambda d: f"only partner {partner}" in d.find_element(
            By.CSS_SELECTOR, ".report-head").text)
        assert driver.execute_script("return window.marker") == "same page"
        assert driver.execute_script(OVERFLOWING) == [0, []]
        screenshot(driver, folder, "reports-one-partner")

        # The URL is the report: opened afresh, it shows the same filter.
        shared = driver.current_url
        driver.get(shared)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".report section"))
        assert Select(driver.find_element(By.NAME, "partner")) \
            .first_selected_option.get_attribute("value") == partner

        # A bad value in a shared URL: the message at its field, no report.
        driver.get(f"{base}/reports?region=Atlantis&since=2026-02-30")
        errors = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".field-error"))
        texts = " ".join(e.text for e in errors)
        assert "No deal of the 'partners' pipeline" in texts and "'Atlantis'" in texts
        assert "'2026-02-30' is not a date" in texts
        assert not driver.find_elements(By.CSS_SELECTOR, ".report section")
        assert driver.execute_script(OVERFLOWING) == [0, []]
        screenshot(driver, folder, "reports-bad-values")
        logs = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
                and "400" not in e["message"] and "favicon" not in e["message"]]
        assert logs == []


def test_a_report_computed_in_the_background_replaces_what_the_page_shows_by_itself(
        world: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.webdriver.common.by import By

    folder = artefacts_folder(tmp_path_factory, "reports")
    context = world["context"]
    context.jobs = Jobs(workers=1)
    with live_console(context) as base, chrome() as driver:
        browser_login(driver, base)
        wait = swap_wait(driver)
        with job_threads_busy(context.jobs):  # the report waits for a job thread
            driver.get(f"{base}/reports?by=segment")
            panel = wait.until(lambda d: text_at(d, ".report-pending"))
            assert "Computing the report… started" in panel
            assert not driver.find_elements(By.CSS_SELECTOR, ".report section")
            driver.execute_script("window.marker = 'same page'")  # gone on a reload
            screenshot(driver, folder, "reports-computing")
        # htmx asks again every 2 s: the report replaces the panel, no reload.
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".report section#readiness"))
        assert not driver.find_elements(By.CSS_SELECTOR, ".report-pending")
        assert driver.execute_script("return window.marker") == "same page"
        assert "groups by segment" in driver.find_element(By.CSS_SELECTOR,
                                                          ".report-head").text

        world["runner"].run_cycle()  # a new cycle: the figures above are now older
        with job_threads_busy(context.jobs):
            driver.get(f"{base}/reports?by=segment")
            panel = wait.until(lambda d: text_at(d, ".report-pending"))
            assert "before the store last changed" in panel
            assert "refreshing" in panel
            assert driver.find_elements(By.CSS_SELECTOR, ".report section#readiness")
            assert driver.execute_script(OVERFLOWING) == [0, []]
            driver.execute_script("window.marker = 'same page'")
            screenshot(driver, folder, "reports-refreshing")
        wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".report-pending"))
        assert driver.find_elements(By.CSS_SELECTOR, ".report section#readiness")
        assert driver.execute_script("return window.marker") == "same page"
        assert driver.current_url == f"{base}/reports?by=segment"  # the poll pushes no URL
        logs = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"
                and "favicon" not in e["message"]]
        assert logs == []
