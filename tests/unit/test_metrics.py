"""Metrics folded from cycle reports: counters add up, gauges hold the last cycle's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from connectors.errors import CertificateRejected, RetriesExhausted
from connectors.salesforce.errors import SessionExpired
from handoff_sync.daemon.metrics import Metrics, budget_remaining
from handoff_sync.store.types import CycleHealth, RunKind, RunOutcome, StoreError
from handoff_sync.sync.cycle import CycleReport
from handoff_sync.sync.failures import CLASSES, classify, classify_message
from handoff_sync.testing.daemon import make_report, usage

STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ENDED = datetime(2026, 3, 2, 9, 0, 4, tzinfo=UTC)


def first_report() -> CycleReport:
    return make_report(
        "alpha", kind=RunKind.INCREMENTAL, outcome=RunOutcome.PARTIAL,
        started_at=STARTED, ended_at=ENDED,
        counts={"records_read": 120, "records_written": 9, "tasks_created": 4,
                "tasks_updated": 2, "tasks_closed": 1, "errors": 3, "reviews_open": 5,
                "sla_breaches": 2, "conflicts": 1, "deals": 60},
        api_calls={"salesforce": usage({"query": 5, "write": 3}, daily_used=1200,
                                       daily_limit=15000),
                   "hubspot": usage({"search": 4})},
        drift={"salesforce.Opportunity.A__c": "missing", "hubspot.deals.b": "read-only"})


def test_one_report_sets_every_series() -> None:
    metrics = Metrics()
    metrics.observe(first_report())
    v = metrics.value
    assert v("handoff_sync_cycles_total", pipeline="alpha", kind="incremental",
             outcome="partial") == 1
    assert v("handoff_sync_cycle_duration_seconds_count", pipeline="alpha",
             kind="incremental") == 1
    assert v("handoff_sync_cycle_duration_seconds_sum", pipeline="alpha",
             kind="incremental") == 4.0
    assert v("handoff_sync_cycle_duration_seconds_bucket", pipeline="alpha",
             kind="incremental", le="2.5") == 0
    assert v("handoff_sync_cycle_duration_seconds_bucket", pipeline="alpha",
             kind="incremental", le="5.0") == 1
    assert v("handoff_sync_records_read_total", pipeline="alpha") == 120
    assert v("handoff_sync_records_written_total", pipeline="alpha") == 9
    assert v("handoff_sync_tasks_total", pipeline="alpha", action="created") == 4
    assert v("handoff_sync_tasks_total", pipeline="alpha", action="updated") == 2
    assert v("handoff_sync_tasks_total", pipeline="alpha", action="closed") == 1
    # Open errors are the store's (observe_health): this cycle's count is not all of them.
    assert v("handoff_sync_sync_errors", pipeline="alpha") is None
    assert v("handoff_sync_api_calls_total", pipeline="alpha", system="salesforce") == 8
    assert v("handoff_sync_api_calls_total", pipeline="alpha", system="hubspot") == 4
    assert v("handoff_sync_api_budget_remaining", pipeline="alpha",
             system="salesforce") == 13800
    assert v("handoff_sync_api_budget_remaining", pipeline="alpha", system="hubspot") is None
    assert v("handoff_sync_sla_breaches_total", pipeline="alpha") == 2
    assert v("handoff_sync_review_items_open", pipeline="alpha") == 5
    assert v("handoff_sync_schema_drift_fields", pipeline="alpha") == 2
    assert v("handoff_sync_last_cycle_timestamp_seconds", pipeline="alpha") == ENDED.timestamp()


def test_counters_add_up_and_gauges_take_the_last_cycle() -> None:
    metrics = Metrics()
    metrics.observe(first_report())
    later = datetime(2026, 3, 2, 9, 1, tzinfo=UTC)
    metrics.observe(make_report(
        "alpha", kind=RunKind.INCREMENTAL, outcome=RunOutcome.OK, started_at=later,
        ended_at=later, counts={"records_read": 30, "errors": 0, "reviews_open": 1},
        api_calls={"salesforce": usage({"query": 2}, daily_used=1210, daily_limit=15000)}))
    v = metrics.value
    assert v("handoff_sync_records_read_total", pipeline="alpha") == 150
    assert v("handoff_sync_api_calls_total", pipeline="alpha", system="salesforce") == 10
    assert v("handoff_sync_cycles_total", pipeline="alpha", kind="incremental",
             outcome="ok") == 1
    assert v("handoff_sync_review_items_open", pipeline="alpha") == 1
    assert v("handoff_sync_schema_drift_fields", pipeline="alpha") == 0
    assert v("handoff_sync_api_budget_remaining", pipeline="alpha",
             system="salesforce") == 13790
    assert v("handoff_sync_last_cycle_timestamp_seconds", pipeline="alpha") == later.timestamp()


def test_pipelines_are_labelled_apart_and_start_at_zero() -> None:
    metrics = Metrics()
    metrics.add_pipeline("beta")
    metrics.observe(first_report())
    assert metrics.value("handoff_sync_records_read_total", pipeline="beta") == 0
    assert metrics.value("handoff_sync_tasks_total", pipeline="beta", action="closed") == 0
    assert metrics.value("handoff_sync_lease_held", pipeline="beta") == 0
    metrics.set_lease_held("beta", True)
    assert metrics.value("handoff_sync_lease_held", pipeline="beta") == 1
    metrics.observe_lease_lost("beta")
    assert metrics.value("handoff_sync_lease_held", pipeline="beta") == 0
    assert metrics.value("handoff_sync_leases_lost_total", pipeline="beta") == 1


def test_each_instance_has_its_own_registry_not_the_global_one() -> None:
    one, two = Metrics(), Metrics()
    one.observe(first_report())
    assert two.value("handoff_sync_records_read_total", pipeline="alpha") is None
    assert REGISTRY.get_sample_value("handoff_sync_records_read_total",
                                     {"pipeline": "alpha"}) is None


def test_exposition_is_prometheus_text() -> None:
    metrics = Metrics()
    metrics.observe(first_report())
    metrics.observe_exception("alpha", "full", TimeoutError("x"))
    metrics.observe_skip("alpha", "lease_held_elsewhere")
    text = metrics.exposition().decode()
    assert "# TYPE handoff_sync_cycles_total counter" in text
    assert "# TYPE handoff_sync_cycle_duration_seconds histogram" in text
    assert 'handoff_sync_records_read_total{pipeline="alpha"} 120.0' in text
    assert ('handoff_sync_cycle_exceptions_total{error="TimeoutError",kind="full",'
            'pipeline="alpha"} 1.0') in text
    assert 'handoff_sync_cycles_skipped_total{pipeline="alpha",reason="lease_held_elsewhere"}' \
        in text
    assert "python_gc" not in text  # no process/platform collectors in our registry


def test_missing_or_negative_counts_add_nothing() -> None:
    metrics = Metrics()
    metrics.observe(make_report("alpha", counts={"records_read": -5}))
    assert metrics.value("handoff_sync_records_read_total", pipeline="alpha") == 0
    assert metrics.value("handoff_sync_records_written_total", pipeline="alpha") == 0


def test_budget_needs_both_limit_and_use() -> None:
    assert budget_remaining({"daily_limit": 100, "daily_used": 40}) == 60
    assert budget_remaining({"daily_limit": 100, "daily_used": 140}) == 0
    assert budget_remaining({"daily_limit": None, "daily_used": 40}) is None
    assert budget_remaining({}) is None


def test_a_failed_cycle_counts_its_reason_class_and_changes_no_state_gauge() -> None:
    metrics = Metrics()
    metrics.add_pipeline("alpha")
    assert all(metrics.value("handoff_sync_cycle_failures_total", pipeline="alpha",
                             reason=reason) == 0 for reason in CLASSES)
    metrics.observe(first_report())
    later = ENDED + timedelta(minutes=5)
    for message in ("AuthError: hubspot: the token was refused",
                    "SessionExpired: salesforce: INVALID_SESSION_ID",
                    "CycleFailed: the mappings folder m does not validate",
                    "ValueError: year 385333 is out of range", None):
        metrics.observe(make_report("alpha", outcome=RunOutcome.FAILED, started_at=later,
                                    ended_at=later, message=message))
    metrics.observe_exception("alpha", "incremental", StoreError("disk I/O error"))
    metrics.observe_exception("alpha", "incremental", RetriesExhausted("503s for 30 s"))
    metrics.observe_exception("alpha", "incremental", SessionExpired("expired"))
    v = metrics.value
    failures = {reason: v("handoff_sync_cycle_failures_total", pipeline="alpha",
                          reason=reason) for reason in CLASSES}
    assert {k: n for k, n in failures.items() if n} == {
        "auth": 3, "config": 1, "internal": 2, "database": 1, "unreachable": 1}
    # A failed cycle read nothing: the review count stays what the last cycle found.
    assert v("handoff_sync_review_items_open", pipeline="alpha") == 5
    assert v("handoff_sync_last_success_timestamp_seconds", pipeline="alpha") is None


def test_a_rejected_certificate_is_a_tls_failure_not_a_connector_one() -> None:
    # A wrong ca_file is configuration, not "the system refused": its own class.
    exc = CertificateRejected("TLS certificate at 127.0.0.1 does not verify",
                              system="salesforce")
    assert classify(exc) == "tls"
    assert classify_message(f"CertificateRejected: {exc}") == "tls"
    metrics = Metrics()
    metrics.add_pipeline("alpha")
    metrics.observe_exception("alpha", "incremental", exc)
    metrics.observe(make_report("alpha", outcome=RunOutcome.FAILED, started_at=STARTED,
                                ended_at=ENDED, message=f"CertificateRejected: {exc}"))
    for reason, expected in (("tls", 2), ("connector", 0)):
        assert metrics.value("handoff_sync_cycle_failures_total", pipeline="alpha",
                             reason=reason) == expected


def test_health_gauges_come_from_the_store_and_a_failure_keeps_the_last_success() -> None:
    metrics = Metrics()
    metrics.observe_health(CycleHealth("alpha", consecutive_failures=0,
                                       last_success_at=ENDED, last_failure_at=None,
                                       last_failure=None, open_errors=7))
    metrics.observe_health(CycleHealth("alpha", consecutive_failures=4,
                                       last_success_at=ENDED, last_failure_at=ENDED,
                                       last_failure="AuthError: x", open_errors=7))
    v = metrics.value
    assert v("handoff_sync_last_success_timestamp_seconds", pipeline="alpha") \
        == ENDED.timestamp()
    assert v("handoff_sync_consecutive_failed_cycles", pipeline="alpha") == 4
    assert v("handoff_sync_sync_errors", pipeline="alpha") == 7
