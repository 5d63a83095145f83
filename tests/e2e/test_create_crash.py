"""Issue 16 (1): a crash between creating an opportunity and recording its link, and two
replicas, still leave exactly one opportunity per registration.

The drill stalls the first CRM write that follows the creations (a sandbox delay fault),
so the process doing the cycle is caught after the opportunity exists and before the
cycle is recorded, and kills it with SIGKILL (`sync --once`, the crash drill's machinery;
two `handoff-sync run` replicas, the replica test's). The next cycles - of the same
command, or of the surviving replica - must find the opportunity by its creation key or
link it by the registration id it holds, never create a second, and link it both ways.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.engine.types import creation_key
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store
from tests.e2e.create_support import DEFAULT_PACK, PACKS, Sides, pack_argument
from tests.e2e.sync_support import configured_sandbox, running_daemon
from tests.e2e.test_crash_drill import REPO, child_env, sync_command
from tests.e2e.test_daemon_replicas import (
    STOP_WAIT_SECONDS,
    TAKEOVER_WAIT_SECONDS,
    all_runs,
    daemon_config,
    holder_pid,
    wait_until,
)
from tests.store_support import BACKENDS, fresh_database_url, require_postgres

pytestmark = pytest.mark.heavy

STALL_SECONDS = 120  # longer than any wait below: the kill always comes first
CREATED_WAIT_SECONDS = 60
CYCLE_TIMEOUT_SECONDS = 180

# The first CRM write of a cycle comes after its creations (sync.write.carry_out): an
# update of opportunities (Salesforce collections PATCH, not the upsert by key) or of
# HubSpot deals (batch update, not the batch upsert).
CRM_WRITE = {
    DEFAULT_PACK: {"api": "salesforce", "method": "PATCH", "path": r"/composite/sobjects$"},
    "salesforce-prm-hubspot-crm": {"api": "hubspot", "method": "POST",
                                   "path": r"/objects/deals/batch/update$"},
}


def stall_first_crm_write(server: SandboxServer, pack: str) -> None:
    server.sandbox.faults.set_rules([{**CRM_WRITE[pack], "count": 1,
                                      "effect": {"delay": STALL_SECONDS}}])


def wait_created(sides: Sides, key: str, process: subprocess.Popen[Any] | None = None,
                 ) -> list[dict[str, Any]]:
    deadline = time.monotonic() + CREATED_WAIT_SECONDS
    while time.monotonic() < deadline:
        found = sides.created_for(key)
        if found:
            return found
        if process is not None and process.poll() is not None:
            pytest.fail(f"the cycle ended (exit {process.returncode}) before creating")
        time.sleep(0.05)
    pytest.fail(f"no opportunity with key {key} within {CREATED_WAIT_SECONDS} s")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("pack", PACKS)
def test_kill_between_create_and_link_leaves_one_opportunity(
        sandbox: SandboxServer, tmp_path: Path, pack: str, backend: str) -> None:
    with fresh_database_url(backend, tmp_path) as url:
        config = configured_sandbox(sandbox, tmp_path, database_url=url,
                                    pack=pack_argument(pack))
        sides = Sides.of(pack, sandbox)
        prm_id = sides.register("Marigold fleet telematics", "Marigold Logistics",
                                "marigold.example", 240000)
        key = creation_key("partners", prm_id)
        with Store.connect(url) as store:
            store.migrate()
            stall_first_crm_write(sandbox, pack)
            process = subprocess.Popen(sync_command(config), cwd=REPO, env=child_env(),
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_created(sides, key, process)
                assert process.poll() is None, "the cycle must still be running"
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                sandbox.sandbox.faults.clear()
            # Nothing of that cycle was recorded: no link, and the registration names
            # no opportunity yet.
            assert prm_id not in store.load_pipeline("partners").engine.links
            assert sides.registration_crm_id(prm_id) is None
            store.release_lease("pipeline:partners",
                                f"{socket.gethostname()}:{process.pid}:cli")
            for _ in range(2):
                done = subprocess.run(sync_command(config), cwd=REPO, env=child_env(),
                                      capture_output=True, text=True,
                                      timeout=CYCLE_TIMEOUT_SECONDS)
                assert done.returncode == 0, done.stderr[-3000:]
            [made] = sides.created_for(key)
            assert made["prm_id"] == prm_id
            assert store.load_pipeline("partners").engine.links[prm_id].crm_id == made["id"]
            assert sides.registration_crm_id(prm_id) == made["id"]


def test_two_replicas_create_one_opportunity(sandbox: SandboxServer, tmp_path: Path) -> None:
    """The replica holding the pipeline dies after creating; the other takes over."""
    require_postgres()
    with fresh_database_url("postgresql") as url, ExitStack() as stack:
        config = daemon_config(sandbox, tmp_path, url)
        sides = Sides.of(DEFAULT_PACK, sandbox)
        before = sides.crm_records()
        prm_id = sides.register("Osprey cold-chain monitoring", "Osprey Farms",
                                "osprey.example", 260000)
        key = creation_key("partners", prm_id)
        stall_first_crm_write(sandbox, DEFAULT_PACK)
        logs = [tmp_path / f"replica-{n}.log" for n in (1, 2)]
        replicas = [stack.enter_context(running_daemon(config, log)) for log in logs]
        store = stack.enter_context(Store.connect(url))
        wait_created(sides, key)
        running = [run for run in all_runs(store) if run.ended_at is None]
        assert running, "the creating cycle is still running (stalled)"
        by_pid = {replica.pid: replica for replica in replicas}
        victim = by_pid[holder_pid(running[-1].holder)]
        survivor = next(r for r in replicas if r is not victim)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        sandbox.sandbox.faults.clear()

        def linked_both_ways() -> bool:
            link = store.load_pipeline("partners").engine.links.get(prm_id)
            return link is not None and sides.registration_crm_id(prm_id) == link.crm_id

        wait_until("the surviving replica links the opportunity both ways",
                   linked_both_ways, 2 * TAKEOVER_WAIT_SECONDS,
                   logs[replicas.index(survivor)])
        [made] = sides.created_for(key)
        assert store.load_pipeline("partners").engine.links[prm_id].crm_id == made["id"]
        assert sides.crm_records() == before + 1
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=STOP_WAIT_SECONDS) == 0
