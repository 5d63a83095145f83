"""A daemon whose every cycle fails must not look healthy (issue 14, item 7).

The daemon runs in-process as `handoff-sync run` builds it (real config, real store,
real ``PipelineRunner``s) against the sandbox, with a HubSpot token the sandbox refuses.
After three failed cycles /readyz answers 503 naming the pipeline, the count and the
reason; the metrics count the failures by class and show no success; a restarted daemon
knows the streak from the store; with the right token one good cycle makes it ready.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from structlog.testing import capture_logs

from handoff_sync.config.load import load_config
from handoff_sync.daemon.health import store_readiness
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.store import Store, sqlite_url_for
from handoff_sync.testing.daemon import wait_for
from tests.e2e.sync_support import configured_sandbox, daemon_for, http_get

PIPELINE = "partners"






def test_a_daemon_failing_every_cycle_is_not_ready_until_a_cycle_succeeds(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    path = configured_sandbox(sandbox, tmp_path, deals=20,
                              database_url=sqlite_url_for(tmp_path / "state.db"))
    path.write_text(path.read_text(encoding="utf-8").replace("port: 9464", "port: 0"),
                    encoding="utf-8")
    token = tmp_path / "secrets" / "hubspot-access-token"
    good = token.read_text(encoding="utf-8")
    token.write_text("pat-na1-00000000-0000-0000-0000-000000000000", encoding="utf-8")
    config = load_config(path)
    with Store.connect(config.database.url) as store:
        store.migrate()

    daemon = daemon_for(config)
    daemon.start()  # its first cycle starts at once; the test runs the next two itself
    try:
        url = daemon.health_url
        assert url is not None
        streak = daemon.store.cycle_health  # type: ignore[attr-defined]
        # The scheduler's first cycle runs when it gets to it: wait for it, so no cycle
        # the test did not start can move the count between its reads below.
        assert wait_for(lambda: streak(PIPELINE).consecutive_failures >= 1, timeout=120)
        for _ in range(3):
            if streak(PIPELINE).consecutive_failures >= 3:
                break
            daemon.run_pipeline(PIPELINE, full=True)  # waits for the cycle in hand
        failed = streak(PIPELINE).consecutive_failures
        assert failed == 3
        status, body = http_get(url + "/readyz")
        assert status == 503
        assert re.fullmatch(rf"not ready: pipeline partners: {failed} failed cycles in a row "
                            r"\(auth; last at \S+\): AuthError: .+\n", body), body
        assert http_get(url + "/healthz") == (200, "ok\n")  # alive, just not ready
        metrics = http_get(url + "/metrics")[1]
        assert ('handoff_sync_cycle_failures_total{pipeline="partners",reason="auth"} '
                f"{failed}.0") in metrics
        assert f'handoff_sync_consecutive_failed_cycles{{pipeline="partners"}} {failed}.0' \
            in metrics
        assert "handoff_sync_last_success_timestamp_seconds{" not in metrics  # none yet
    finally:
        daemon.shutdown()

    # Restarted with the token still wrong: the streak is the store's, not the process's.
    with Store.connect(config.database.url) as store:
        assert store_readiness(store, [PIPELINE])() is not None
        assert store.cycle_health(PIPELINE).consecutive_failures == 3

    token.write_text(good, encoding="utf-8")
    daemon = daemon_for(load_config(path))
    daemon.start()
    try:
        url = daemon.health_url
        assert url is not None
        assert wait_for(lambda: http_get(url + "/readyz") == (200, "ready\n"), timeout=120)
        metrics = http_get(url + "/metrics")[1]
        assert 'handoff_sync_consecutive_failed_cycles{pipeline="partners"} 0.0' in metrics
        assert "handoff_sync_last_success_timestamp_seconds{pipeline=\"partners\"}" in metrics
    finally:
        daemon.shutdown()


def test_a_pipeline_whose_connectors_cannot_be_built_is_not_ready(
        sandbox: SandboxServer, tmp_path: Path) -> None:
    # The token file is gone: building the HubSpot connector fails before any cycle runs.
    path = configured_sandbox(sandbox, tmp_path, deals=5,
                              database_url=sqlite_url_for(tmp_path / "state.db"))
    path.write_text(path.read_text(encoding="utf-8").replace("port: 9464", "port: 0"),
                    encoding="utf-8")
    config = load_config(path)
    (tmp_path / "secrets" / "hubspot-access-token").unlink()
    with Store.connect(config.database.url) as store:
        store.migrate()

    daemon = daemon_for(config)
    with capture_logs() as logs:
        for _ in range(3):
            daemon.run_pipeline(PIPELINE)
    try:
        daemon.start()
        url = daemon.health_url
        assert url is not None
        status, body = http_get(url + "/readyz")
        metrics = http_get(url + "/metrics")[1]
    finally:
        daemon.shutdown()
    # (The scheduler's first cycle, started at once, may have failed a fourth time.)
    assert status == 503
    answer = re.fullmatch(r"not ready: pipeline partners: ([34]) failed cycles in a row "
                          r"\(auth; last at \S+\): AuthError: hubspot: access_token: file "
                          r"\S+hubspot-access-token not found: .*\n", body)
    assert answer is not None, body
    assert re.search(r'handoff_sync_consecutive_failed_cycles\{pipeline="partners"\} [34]\.0',
                     metrics)
    failed = [entry for entry in logs if entry["event"] == "cycle_failed"]
    assert len(failed) == 3 and not any(entry["exc_info"] for entry in failed)  # no traceback
    with Store.connect(config.database.url) as store:  # what `status` reads
        runs = store.status(PIPELINE, now=datetime.now(UTC))["pipelines"][PIPELINE]["runs"]
    assert {run["outcome"] for run in runs} == {"failed"} and len(runs) >= 3
