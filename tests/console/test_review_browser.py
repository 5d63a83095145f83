"""The review page in headless Chromium: log in, dismiss one person's group of items after
the confirmation, and link a registration to an opportunity after its preview."""

from __future__ import annotations

from pathlib import Path

import pytest

from handoff_sync.model import Role
from handoff_sync.sandbox.server import SandboxServer
from tests.console.support import (
    ADMIN,
    artefacts_folder,
    browser_login,
    chrome,
    console_world,
    live_console,
    screenshot,
)
from tests.console.test_review_page import SEED, items, long_queue, of_kind, owner_group


def test_an_admin_dismisses_a_group_and_links_a_pair_after_the_preview(
        sandbox: SandboxServer, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shows
    from selenium.webdriver.support.ui import Select, WebDriverWait

    shots = artefacts_folder(tmp_path_factory, "review")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       **SEED) as world, live_console(world["context"]) as url, \
            chrome() as driver:
        store = world["store"]
        email, group = owner_group(store)
        [ambiguous] = of_kind(store, "ambiguous_link")
        crm_id = ambiguous["candidates"][1][0]
        opportunity = store.load_pipeline("partners").mirror[Role.CRM][crm_id].fields["Name"]
        # htmx redraws the list after each action: an element read as it is swapped out
        # is stale, and the wait reads it again.
        wait = WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException])

        browser_login(driver, url)
        driver.get(f"{url}/review")
        wait.until(shows.presence_of_element_located((By.ID, "review-list")))
        screenshot(driver, shots, "1-queue")

        # One person's items: the button asks first, the confirmation dismisses them all.
        entry = next(e for e in driver.find_elements(By.CSS_SELECTOR, "article.entry")
                     if f"for {email}" in e.text)
        entry.find_element(By.XPATH, f".//button[contains(., 'for {email}')]").click()
        confirm = wait.until(shows.element_to_be_clickable(
            (By.XPATH, f"//button[contains(., '{len(group)} items of {email}')]")))
        screenshot(driver, shots, "2-dismiss-confirmation")
        assert all(item["key"] in items(store) for item in group)  # asked, not done
        confirm.click()
        wait.until(lambda d: f"for {email}" not in d.find_element(By.ID, "review-list").text)
        after = items(store, None)
        assert {after[item["key"]]["status"] for item in group} == {"dismissed"}
        assert {after[item["key"]]["resolved_by"] for item in group} == {ADMIN}
        screenshot(driver, shots, "3-dismissed")

        # A link: choose the opportunity, see what it changes, then confirm.
        entry = next(e for e in driver.find_elements(By.CSS_SELECTOR, "article.entry")
                     if ambiguous["key"] in e.text)
        entry.find_element(By.CSS_SELECTOR, "details.link-form summary").click()
        Select(entry.find_element(By.NAME, "opportunity")).select_by_value(crm_id)
        entry.find_element(By.XPATH, ".//button[contains(., 'Preview the link')]").click()
        link = wait.until(shows.element_to_be_clickable(
            (By.XPATH, f"//button[contains(., 'to {crm_id}')]")))
        preview = entry.find_element(By.CSS_SELECTOR, ".link-preview").text
        assert opportunity in preview and "partner of record" in preview
        screenshot(driver, shots, "4-link-preview")
        assert items(store)[ambiguous["key"]]["status"] == "open"
        link.click()
        wait.until(lambda d: ambiguous["key"] not in d.find_element(By.ID, "review-list").text)
        resolved = items(store, None)[ambiguous["key"]]
        assert resolved["resolution"] == f"linked to {crm_id}"
        assert resolved["resolved_by"] == ADMIN
        screenshot(driver, shots, "5-linked")

        # Taking an opportunity from another partner: the move has its own checkbox.
        [conflict] = of_kind(store, "channel_conflict")
        state = store.load_pipeline("partners")
        mine = conflict["details"]["partners"][conflict["details"]["registrations"][0]]
        target = next(link.crm_id for prm_id, link in sorted(state.engine.links.items())
                      if prm_id not in conflict["details"]["registrations"]
                      and state.mirror[Role.PRM][prm_id].fields["partner_account_name"]
                      != mine)
        entry = next(e for e in driver.find_elements(By.CSS_SELECTOR, "article.entry")
                     if conflict["key"] in e.text)
        entry.find_element(By.CSS_SELECTOR, "details.link-form summary").click()
        entry.find_element(By.NAME, "opportunity_id").send_keys(target)
        entry.find_element(By.XPATH, ".//button[contains(., 'Preview the link')]").click()
        move = wait.until(shows.visibility_of_element_located((By.NAME, "move_attribution")))
        assert not move.is_selected()
        entry.find_element(By.XPATH, f".//button[contains(., 'to {target}')]").click()
        wait.until(lambda d: "Nothing was linked" in entry.text)
        screenshot(driver, shots, "6-attribution-move-refused")
        assert items(store)[conflict["key"]]["status"] == "open"
        # Script errors only: the refused link's 400 (and the absent favicon) are network
        # entries, and expected.
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"
                  and entry["source"] != "network"]
        assert errors == []


def test_the_next_page_keeps_the_filters_and_a_persons_group_is_dismissed_from_it(
        sandbox: SandboxServer, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    shots = artefacts_folder(tmp_path_factory, "review")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       **SEED) as world, live_console(world["context"]) as url, \
            chrome() as driver:
        store = world["store"]
        _routing, owners = long_queue(store)
        wait = WebDriverWait(driver, 10, ignored_exceptions=[StaleElementReferenceException])

        def listed() -> str:
            return str(driver.find_element(By.ID, "review-list").text)

        browser_login(driver, url)
        driver.get(f"{url}/review?status=open")
        assert "page 1 of 2" in listed()
        # htmx swaps the list and pushes the page's address (filters in it).
        driver.find_element(By.CSS_SELECTOR, "#review-list a[rel=next]").click()
        wait.until(lambda d: "entries 51–72 of 72" in listed())
        assert "status=open" in driver.current_url and "page=2" in driver.current_url
        screenshot(driver, shots, "7-second-page")

        entry = next(e for e in driver.find_elements(By.CSS_SELECTOR, "article.entry")
                     if "Ann@X.example" in e.text)
        assert "30 deals" in entry.text and "and 22 more deals" in entry.text
        entry.find_element(By.CSS_SELECTOR, "input[name=groups]").click()
        driver.find_element(By.XPATH, "//button[contains(., 'Dismiss selected')]").click()
        wait.until(lambda d: "Dismiss 30 unresolved owner items?"
                   in d.find_element(By.ID, "review-panel").text)
        driver.find_element(By.XPATH, "//button[contains(., 'Dismiss 30 items')]").click()
        # The list is redrawn on the page it was on, without the group.
        wait.until(lambda d: "entries 51–71 of 71" in listed())
        assert "Ann@X.example" not in listed()
        screenshot(driver, shots, "8-group-dismissed")
        after = items(store, None)
        assert {after[item.key]["status"] for item in owners[0::2]} == {"dismissed"}
        assert {after[item.key]["status"] for item in owners[1::2]} == {"open"}
