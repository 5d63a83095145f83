"""/mappings in headless Chromium: an admin changes a conflict policy, sees an unknown
field refused at its row, previews the diff, saves, and the next cycle reconciles in
full; a viewer sees the same forms disabled. Screenshots are kept as test artefacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store.types import RunKind
from tests.console.support import (
    VIEWER,
    artefacts_folder,
    browser_login,
    chrome,
    console_world,
    live_console,
    screenshot,
)

SALESFORCE = "/mappings/partners/salesforce.yaml"


def test_an_admin_edits_a_policy_in_the_browser_and_the_next_cycle_applies_it(
        sandbox: SandboxServer, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of
    from selenium.webdriver.support.ui import Select, WebDriverWait

    shots = artefacts_folder(tmp_path_factory, "mappings")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/s.db",
                       deals=12) as world, live_console(world["context"]) as url, \
            chrome() as driver:
        file = world["mappings"] / "salesforce.yaml"
        before = file.read_text(encoding="utf-8")
        browser_login(driver, url)
        driver.get(f"{url}/mappings")
        screenshot(driver, shots, "01-mappings-index")
        driver.find_element(By.LINK_TEXT, "salesforce.yaml").click()
        WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith(SALESFORCE))
        screenshot(driver, shots, "02-salesforce-form")
        laptop_view(driver, shots, "02b-salesforce-form-top")

        def cell(row: str, name: str) -> Any:
            return driver.find_element(By.CSS_SELECTOR, f'tr[id="fields-{row}"] '
                                       f'[aria-label="{name}"]')

        def press(label: str) -> None:
            """Click a button of the form and wait for the page it posts to."""
            page = driver.find_element(By.TAG_NAME, "html")
            driver.find_element(By.XPATH, f'//form[@id="mapping-form"]//button'
                                f'[normalize-space()="{label}"]').click()
            WebDriverWait(driver, 10).until(staleness_of(page))

        # An unknown canonical field: refused at its row, nothing written.
        new = driver.find_elements(By.CSS_SELECTOR, 'tr.new [aria-label="canonical field"]')[0]
        new.send_keys("competitorz")
        row = new.find_element(By.XPATH, "./ancestor::tr")
        row.find_element(By.CSS_SELECTOR, '[aria-label="system field"]').send_keys(
            "Competitor_List__c")
        Select(cell("competitors", "policy")).select_by_value("crm_wins")
        press("Preview changes")
        refused = driver.find_element(By.CSS_SELECTOR, 'tr[id="fields-competitorz"]')
        assert "unknown canonical field 'competitorz' (did you mean 'competitors'?)" in \
            refused.text
        assert "has-problem" in (refused.get_attribute("class") or "")
        assert not driver.find_elements(By.XPATH, '//button[starts-with(normalize-space(),'
                                        '"Save")]')
        screenshot(driver, shots, "03-unknown-field-refused")
        laptop_view(driver, shots, "03b-unknown-field-at-its-row", refused)
        assert file.read_text(encoding="utf-8") == before

        # Fixed: the preview shows the one-line diff; save; the audit page lists it.
        for name in ("canonical field", "system field"):
            cell("competitorz", name).clear()
        press("Preview changes")
        preview = driver.find_element(By.ID, "preview").text
        assert "competitors policy prm_unless_blank -> crm_wins" in preview
        screenshot(driver, shots, "04-preview")
        laptop_view(driver, shots, "04b-preview-top")
        press("Save to salesforce.yaml")
        flash = driver.find_element(By.CSS_SELECTOR, ".flash").text
        assert "Saved: salesforce.yaml: competitors policy prm_unless_blank -> crm_wins" in flash
        assert Select(cell("competitors", "policy")).first_selected_option.text == "crm_wins"
        screenshot(driver, shots, "05-saved")
        after = file.read_text(encoding="utf-8")
        assert after.count("\n") == before.count("\n") and "policy: crm_wins}" in after
        driver.get(f"{url}/audit")
        assert "competitors policy prm_unless_blank -> crm_wins" in driver.find_element(
            By.TAG_NAME, "main").text
        screenshot(driver, shots, "06-audit")

        # The YAML view, opened.
        driver.get(f"{url}{SALESFORCE}")
        driver.find_element(By.CSS_SELECTOR, "details.raw summary").click()
        driver.execute_script("document.getElementById('yaml').scrollIntoView()")
        screenshot(driver, shots, "07-yaml-editor")

        report = world["runner"].run_cycle()
        assert report.kind is RunKind.FULL
        assert world["store"].load_pipeline("partners").mappings_hash is not None

        # A viewer: the same forms, disabled, no buttons.
        driver.delete_all_cookies()
        browser_login(driver, url, VIEWER)
        driver.get(f"{url}{SALESFORCE}")
        assert not cell("competitors", "policy").is_enabled()
        assert not driver.find_elements(By.XPATH, '//button[normalize-space()='
                                        '"Preview changes"]')
        screenshot(driver, shots, "08-viewer")
        for name in ("01-mappings-index", "02-salesforce-form", "04-preview", "08-viewer"):
            assert (shots / f"{name}.png").stat().st_size > 10_000


def laptop_view(driver: Any, folder: Path, name: str, element: Any = None) -> Path:
    """What a 1280x900 laptop window shows (``element`` scrolled to the middle): the
    full-page shots are too tall to judge the details by."""
    driver.set_window_size(1280, 900)
    if element is not None:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    else:
        driver.execute_script("window.scrollTo(0, 0)")
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
