"""The issue's browser check for /policy: an admin adds a required field to a gate, sees the
what-if (computing at first: the panel refreshes itself to it), saves, and the next cycle
applies it in the CRM (the gate flag and the task)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.console import policy_whatif
from handoff_sync.console.jobs import Jobs
from handoff_sync.model import GateStatus
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.sandbox_clients import salesforce_client
from tests.console.support import (
    artefacts_folder,
    browser_login,
    chrome,
    console_world,
    live_console,
    screenshot,
    swap_wait,
    text_at,
)
from tests.e2e.sync_support import handoff_tasks

KICKOFF_GATE = "handoff_types/closed_won_to_cs/stages/0/gate"
LABEL = "Kickoff date booked"
FIELD_ERROR = f"#err-p-{KICKOFF_GATE.replace('/', '-')}-6-field"  # the new field's message


def test_a_gate_change_is_previewed_saved_and_applied_by_the_next_cycle(
        sandbox: SandboxServer, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready

    shots = artefacts_folder(tmp_path_factory, "policy")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=24) as world, live_console(world["context"]) as url, \
            chrome() as driver:
        pipeline = world["config"].pipelines[0].name
        before = world["store"].load_pipeline(pipeline).engine.verdicts
        passed = {key for key, v in before.items()
                  if v.handoff_type == "closed_won_to_cs" and v.status is GateStatus.PASSED}
        assert passed, "the seeded world has a won deal whose kickoff gate passes"
        browser_login(driver, url)
        driver.get(f"{url}/policy")
        wait = swap_wait(driver)
        field = wait.until(ready.presence_of_element_located(
            (By.CSS_SELECTOR, f'input[name="f:text:{KICKOFF_GATE}/6/field"]')))
        form = field.find_element(By.XPATH, "./ancestor::form")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", form)
        screenshot(driver, shots, "1-policy-page")

        # A typo first: validate's message at the field, nothing written.
        field.send_keys("kickof_at")
        form.find_element(By.CSS_SELECTOR, "button.preview").click()
        error = wait.until(lambda d: text_at(form, FIELD_ERROR))
        assert error is not None and "unknown canonical field 'kickof_at'" in error
        assert "did you mean 'kickoff_at'?" in error
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", form)
        screenshot(driver, shots, "2-bad-field")

        field.clear()
        field.send_keys("kickoff_at")
        form.find_element(By.CSS_SELECTOR, f'input[name="f:text:{KICKOFF_GATE}/6/label"]') \
            .send_keys(LABEL)
        # The console's what-if thread busy with another what-if: this one waits its turn,
        # the panel says so and polls until the what-if and the Save button replace it.
        world["context"].jobs = jobs = Jobs(workers=1)
        release = threading.Event()
        jobs.get("other", "other", lambda: release.wait(60), lane=policy_whatif.LANE)
        try:
            form.find_element(By.CSS_SELECTOR, "button.preview").click()
            computing = wait.until(lambda d: text_at(form, ".whatif.pending .headline"))
            assert "Computing the what-if" in computing
            assert not form.find_elements(By.XPATH, ".//button[normalize-space()='Save the "
                                          "change']")
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", form)
            screenshot(driver, shots, "3-computing")
        finally:
            release.set()
        headline = wait.until(lambda d: text_at(form, ".whatif:not(.pending) .headline"))
        assert "flips 1 deal to Blocked" in headline and "creates" in headline, headline
        assert wait.until(lambda d: text_at(form, FIELD_ERROR) is None)  # the old one went
        screenshot(driver, shots, "4-what-if")

        form.find_element(By.XPATH, ".//button[normalize-space()='Save the change']").click()
        saved = wait.until(lambda d: text_at(form, ".flash.saved"))
        assert "Saved (audit entry" in saved
        screenshot(driver, shots, "5-saved")
        assert f"label: {LABEL}" in (world["mappings"] / "handoff.yaml").read_text()
        driver.get(f"{url}/audit")
        assert "added {field: kickoff_at" in driver.page_source
        screenshot(driver, shots, "6-audit")

        report = world["runner"].run_cycle()
        assert report.kind.value == "full"  # the changed folder: a full reconcile
        after = world["store"].load_pipeline(pipeline).engine.verdicts
        flipped = [key for key in passed if after[key].status is GateStatus.BLOCKED]
        assert flipped and all(LABEL in after[key].missing for key in flipped)
        sf: Any = salesforce_client(sandbox)
        for key in flipped:
            crm_id = after[key].crm_id
            record = sf.Opportunity.get(crm_id)
            assert record["Handoff_Gate_Status__c"].lower() == "blocked"
            subjects = [t["Subject"] for t in handoff_tasks(sf) if t["WhatId"] == crm_id
                        and t["Status"] != "Completed"]
            assert any(s.startswith("Complete the CS handoff") for s in subjects), subjects


UNGATED = "handoff_types/partner_to_direct/stages/3/gate"


def test_ungating_a_stage_in_the_browser_shows_the_warning_and_needs_save_anyway(
        sandbox: SandboxServer, tmp_path: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from selenium.webdriver.common.by import By

    shots = artefacts_folder(tmp_path_factory, "policy")
    with console_world(sandbox, tmp_path, database_url=f"sqlite:///{tmp_path}/state.db",
                       deals=24) as world, live_console(world["context"]) as url, \
            chrome() as driver:
        file = world["mappings"] / "handoff.yaml"
        before = file.read_text(encoding="utf-8")
        browser_login(driver, url)
        driver.get(f"{url}/policy")
        wait = swap_wait(driver)
        remove = wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, f'button[name="remove"][value="{UNGATED}/0"]'))
        form = remove.find_element(By.XPATH, "./ancestor::form")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", form)
        remove.click()
        at_gate = wait.until(lambda d: text_at(form, f"#err-p-{UNGATED.replace('/', '-')}"))
        assert at_gate is not None and "has no gate: deals pass it at once" in at_gate
        wait.until(lambda d: form.find_element(By.CSS_SELECTOR, ".whatif .headline"))
        screenshot(driver, shots, "6-ungated-warning")

        save = form.find_element(By.XPATH, ".//button[normalize-space()='Save the change']")
        save.click()
        refused = wait.until(lambda d: text_at(form, ".flash.bad"))
        assert "Save anyway" in refused and "nothing was saved" in refused
        assert file.read_text(encoding="utf-8") == before

        remove.click()  # preview again, then confirm
        box = wait.until(lambda d: form.find_element(By.CSS_SELECTOR, 'input[name="confirm"]'))
        box.click()
        form.find_element(By.XPATH, ".//button[normalize-space()='Save the change']").click()
        saved = wait.until(lambda d: text_at(form, ".flash.saved"))
        assert "saved anyway: stage 'responsibility_transition'" in saved
        assert "co_led_meetings" not in file.read_text(encoding="utf-8")
        routing = driver.find_element(By.ID, "routing")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", routing)
        screenshot(driver, shots, "7-routing")
