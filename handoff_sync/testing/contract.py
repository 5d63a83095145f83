"""The one contract every connector passes (style.md 14), against the sandbox or a folder.

A system's test module subclasses ``ConnectorContract`` and provides one fixture,
``adapter``, returning a ``ContractAdapter``: the few system-specific facts the contract
needs (which object and fields, how to seed and delete records through the vendor's own
client, which endpoints to break). Every test here then runs against that connector::

    class TestHubSpotContract(ConnectorContract):
        @pytest.fixture
        def adapter(self, sandbox: SandboxServer) -> ContractAdapter:
            return HubSpotAdapter(sandbox)

What the contract pins down, for every system:
- incremental pulls lose nothing and duplicate nothing across page edges, even when every
  record shares one modification timestamp; a pull resumed from a mid-way page cursor
  continues exactly; deletions come back as ``deleted=True``;
- writes return one result per input, in input order, a bad record failing alone; writes
  are batched at the API maximum (usage kind ``write``);
- upserting the same task keys twice leaves one task per key, linked to its deal (or account);
- creating deals by key twice, or from two connectors at once, or through a fault, leaves
  one deal per key, attached to its customer account (``contract_create``; a system's test
  class adds ``DealCreationContract`` beside ``ConnectorContract``);
- every fault the sandbox injects (429 with Retry-After, 500, 503, a stall longer than the
  request timeout, a dropped connection) ends in success or a ``ConnectorError``, never
  with a duplicate write and never with real sleeping (the connector gets a fake clock);
- ``id_problem`` passes real and well-formed ids and refuses malformed ones (a quote,
  a wrong length or checksum, another object's id) with a one-line reason;
- describe names the mapped fields and is cached until ``start_cycle``; owners come back
  with lower-cased email, active flag and manager.
Pulls run with the overlap window off, so "duplicates nothing" is exact; the overlap is
system-specific and tested in each system's module.

A connector that cannot do something (a file drop is read, never pulled from a cursor or
written to) declares it in ``ContractAdapter.lacks`` with the reason: the tests that need
it are skipped saying so, and one test checks that it refuses what it lacks loudly (a
ConnectorError, or a failed result per record) rather than doing nothing.

This module imports pytest; the rest of handoff_sync.testing does not.
"""

from __future__ import annotations

import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar

import pytest

from connectors.base import (
    Connector,
    CreateTarget,
    Cursor,
    DealCreate,
    Owner,
    Page,
    RecordWrite,
    TaskTarget,
    TaskWrite,
)
from connectors.errors import ConnectorError, RetriesExhausted
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.clock import FakeClock

SEEDED_AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)
BEFORE = Cursor(SEEDED_AT - timedelta(hours=1))
STALL_SECONDS = 1.2  # longer than ContractAdapter.timeout_seconds
CAPABILITIES = MappingProxyType({
    "pull": "incremental pulls by cursor, with deletions",
    "fetch": "fetching records by id",
    "write": "writing records",
    "tasks": "upserting tasks by key",
    "create": "creating deals by key",
    "owners": "a user list (owners)",
    "faults": "HTTP faults the sandbox injects",
    "usage": "API calls counted in ``usage``",
})
"""What a connector may lack (``ContractAdapter.lacks``), and what each means."""
F = TypeVar("F", bound=Callable[..., Any])


def needs(*capabilities: str) -> Callable[[F], F]:
    """Mark a contract test as needing ``capabilities`` (keys of CAPABILITIES); it is
    skipped, with the adapter's reason, for a connector that declares it lacks one."""
    unknown = set(capabilities) - set(CAPABILITIES)
    if unknown:
        raise ValueError(f"unknown capabilities {sorted(unknown)}; see CAPABILITIES")

    def mark(test: F) -> F:
        test.contract_needs = capabilities  # type: ignore[attr-defined]
        return test
    return mark


class ContractAdapter(ABC):
    """The system-specific half of the contract; keep implementations small."""

    api: str
    """The sandbox API name fault rules target: "salesforce" or "hubspot"."""
    deal_object: str
    """The object deals live in (Opportunity, deals)."""
    deal_fields: tuple[str, ...]
    """Fields to pull, fetch and describe; must include ``text_field``."""
    text_field: str
    """A writable, filterable text field: changed by writes, searched by ``deals_with_text``."""
    page_size: int
    """Records per pull page the connector from ``make_connector`` uses (keep it small)."""
    write_batch_size: int
    """The API maximum of records per write call."""
    task_target: TaskTarget
    """Where tasks go and how they are keyed and linked."""
    fault_paths: Mapping[str, str]
    """Regexes of the request paths for "pull", "write" and "upsert", for fault rules."""
    missing_id: str
    """A well-formed id no record has."""
    malformed_ids: tuple[str, ...]
    """Values no deal id can be (wrong length, characters, checksum, object), each of
    which ``id_problem`` must refuse."""
    create_target: CreateTarget | None = None
    """Where deals are created by key, and their accounts (None: lacks "create")."""
    timeout_seconds: float = 0.5
    """The request timeout ``make_connector`` must configure (below STALL_SECONDS)."""
    lacks: Mapping[str, str] = MappingProxyType({})
    """Capabilities (keys of CAPABILITIES) this connector does not have, each with the
    reason; the tests needing one are skipped with it, and it must be refused loudly."""

    @abstractmethod
    def make_connector(self, fake_time: FakeClock) -> Connector:
        """A connector on this sandbox: no overlap window, ``page_size`` pages,
        ``timeout_seconds`` requests, and ``fake_time.sleep``/``fake_time.clock`` for every
        wait (retries, rate limits, budget)."""

    @abstractmethod
    def seed_deals(self, count: int) -> list[str]:
        """Create ``count`` deals through the vendor client (the sandbox clock is frozen by
        the caller, so they share one modification timestamp); ids in creation order."""

    @abstractmethod
    def delete_deal(self, deal_id: str) -> None:
        """Delete (archive, bin) one deal through the vendor client."""

    @abstractmethod
    def new_deal(self, marker: str) -> dict[str, Any]:
        """Field values that create a valid deal whose ``text_field`` is ``marker``."""

    @abstractmethod
    def invalid_change(self) -> dict[str, Any]:
        """Field values an update must reject for that one record (a validation error)."""

    @abstractmethod
    def read_text(self, deal_id: str) -> Any:
        """``text_field`` of one deal, read through the vendor client."""

    @abstractmethod
    def deals_with_text(self, marker: str) -> list[str]:
        """Ids of the deals whose ``text_field`` equals ``marker`` (vendor client)."""

    @abstractmethod
    def task_fields(self, subject: str) -> dict[str, Any]:
        """System values for a valid task with this subject (no key, no deal link)."""

    @abstractmethod
    def tasks_with_key(self, key: str) -> list[str]:
        """Ids of the tasks holding ``key`` in the target's key field (vendor client)."""

    @abstractmethod
    def task_deal(self, task_id: str) -> str | None:
        """The deal a task is linked to (vendor client)."""

    def deals_with_key(self, key: str) -> list[str]:
        """Ids of the deals holding ``key`` in the create target's key field (vendor
        client); only for connectors that create."""
        raise NotImplementedError(f"{type(self).__name__} creates no deals")

    def deal_account(self, deal_id: str) -> str | None:
        """The account (company) a deal is attached to (vendor client)."""
        raise NotImplementedError(f"{type(self).__name__} creates no deals")

    account_task_target: TaskTarget | None = None
    """Where tasks on an account (a partner's) go: ``deal_object`` names its object."""

    def seed_account(self, name: str) -> str:
        """Create an account (company) through the vendor client; its id."""
        raise NotImplementedError(f"{type(self).__name__} writes no tasks on accounts")

    def task_account(self, task_id: str) -> str | None:
        """The account a task is attached to (vendor client)."""
        raise NotImplementedError(f"{type(self).__name__} writes no tasks on accounts")

    @abstractmethod
    def seed_owners(self) -> list[Owner]:
        """Create owners (one inactive, one with a manager, where the system has those)
        and return them as ``owners()`` must report them."""


def _ids(pages: Iterable[Page]) -> list[str]:
    return [change.id for page in pages for change in page.changes]


def _drain(fault: str) -> None:
    """Let a stalled request finish on the server before the sandbox is reset for the
    next test, where its late write would otherwise land."""
    if fault == "stall":
        time.sleep(STALL_SECONDS + 0.3)


def _arm(sandbox: SandboxServer, api: str, path: str, effect: Any, count: int = 1) -> None:
    sandbox.sandbox.faults.set_rules([{"api": api, "path": path, "count": count,
                                       "effect": effect}])


def _fired(sandbox: SandboxServer) -> bool:
    """Whether every armed fault was spent (so the test exercised it)."""
    return sandbox.sandbox.faults.rules() == []


FAULTS = {
    "429-retry-after": {"status": 429, "retry_after": 2},
    "500": 500,
    "503": 503,
    "stall": {"delay": STALL_SECONDS},
    "drop": "drop",
}


class ConnectorContract:
    """Tests every connector passes; subclasses provide the ``adapter`` fixture."""

    @pytest.fixture
    def adapter(self, sandbox: SandboxServer) -> ContractAdapter:
        raise NotImplementedError("a connector's contract module provides this fixture")

    @pytest.fixture
    def fake_time(self) -> FakeClock:
        return FakeClock()

    @pytest.fixture(autouse=True)
    def _capabilities(self, request: pytest.FixtureRequest, adapter: ContractAdapter) -> None:
        """Skip a test needing what this connector declares it lacks, saying why."""
        unknown = set(adapter.lacks) - set(CAPABILITIES)
        assert not unknown, f"{type(adapter).__name__}.lacks names unknown {sorted(unknown)}"
        for capability in getattr(request.function, "contract_needs", ()):
            if capability in adapter.lacks:
                pytest.skip(f"{adapter.api} lacks {CAPABILITIES[capability]}: "
                            f"{adapter.lacks[capability]}")

    @pytest.fixture
    def connector(self, adapter: ContractAdapter, fake_time: FakeClock) -> Iterator[Connector]:
        connector = adapter.make_connector(fake_time)
        yield connector
        connector.close()

    @pytest.fixture
    def frozen(self, sandbox: SandboxServer) -> SandboxServer:
        """The sandbox with its clock frozen at SEEDED_AT."""
        sandbox.sandbox.clock.freeze(SEEDED_AT)
        return sandbox

    # --- pulls -----------------------------------------------------------------------
    @needs("pull")
    def test_pull_across_page_edges_with_one_shared_timestamp_is_exact(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer
    ) -> None:
        seeded = adapter.seed_deals(adapter.page_size * 2 + adapter.page_size // 2)

        pages = list(connector.pull(adapter.deal_object, adapter.deal_fields, BEFORE))

        ids = _ids(pages)
        assert len(pages) >= 3
        assert len(ids) == len(set(ids)) == len(seeded)
        assert set(ids) == set(seeded)
        cursors = [page.cursor for page in pages]
        assert all(c is not None for c in cursors)
        assert cursors == sorted(cursors)  # type: ignore[type-var]
        assert cursors[-1] is not None and cursors[-1].modified_at == SEEDED_AT

    @needs("pull")
    def test_a_pull_resumed_from_a_mid_way_cursor_continues_exactly(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer
    ) -> None:
        seeded = adapter.seed_deals(adapter.page_size * 2 + 7)
        first = next(iter(connector.pull(adapter.deal_object, adapter.deal_fields, BEFORE)))
        assert first.cursor is not None

        resumed = _ids(connector.pull(adapter.deal_object, adapter.deal_fields, first.cursor))

        already = _ids([first])
        assert len(resumed) == len(set(resumed))
        assert not set(resumed) & set(already)
        assert set(resumed) | set(already) == set(seeded)

    @needs("pull")
    def test_a_pull_from_the_last_cursor_finds_nothing_new(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer
    ) -> None:
        adapter.seed_deals(3)
        last = list(connector.pull(adapter.deal_object, adapter.deal_fields, BEFORE))[-1]

        again = list(connector.pull(adapter.deal_object, adapter.deal_fields, last.cursor))

        assert _ids(again) == []

    @needs("pull")
    def test_deletions_come_back_as_deleted_changes(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer
    ) -> None:
        kept, gone = adapter.seed_deals(2)
        cursor = list(connector.pull(adapter.deal_object, adapter.deal_fields, BEFORE))[-1].cursor
        frozen.sandbox.clock.shift(60)
        adapter.delete_deal(gone)

        changes = [c for page in connector.pull(adapter.deal_object, adapter.deal_fields, cursor)
                   for c in page.changes]

        assert [(c.id, c.deleted) for c in changes] == [(gone, True)]
        assert kept not in {c.id for c in changes}

    @needs("fetch")
    def test_fetch_returns_records_by_id_in_input_order_and_skips_missing_ones(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer
    ) -> None:
        first, _, third = adapter.seed_deals(3)

        found = connector.fetch(adapter.deal_object, [third, adapter.missing_id, first],
                                adapter.deal_fields)

        assert [r.id for r in found] == [third, first]
        assert all(adapter.text_field in r.fields for r in found)

    def test_id_problem_passes_real_ids_and_names_what_is_wrong_with_others(
        self, adapter: ContractAdapter, connector: Connector
    ) -> None:
        [real] = adapter.seed_deals(1)

        assert connector.id_problem(adapter.deal_object, real) is None
        assert connector.id_problem(adapter.deal_object, adapter.missing_id) is None
        for value in adapter.malformed_ids:
            problem = connector.id_problem(adapter.deal_object, value)
            assert problem and "\n" not in problem, value
        if "fetch" not in adapter.lacks:
            assert connector.fetch(adapter.deal_object, [adapter.missing_id],
                                   adapter.deal_fields) == []

    # --- writes ----------------------------------------------------------------------
    @needs("write")
    def test_a_bad_record_fails_alone_and_results_keep_input_order(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer
    ) -> None:
        one, two, three = adapter.seed_deals(3)
        writes = [RecordWrite("w1", one, {adapter.text_field: "Renamed one"}),
                  RecordWrite("w2", two, adapter.invalid_change()),
                  RecordWrite("w3", three, {adapter.text_field: "Renamed three"}),
                  RecordWrite("w4", None, adapter.new_deal("Brand new"))]

        results = connector.write(adapter.deal_object, writes)

        assert [r.ref for r in results] == ["w1", "w2", "w3", "w4"]
        assert [r.ok for r in results] == [True, False, True, True]
        failed = results[1].error
        assert failed is not None and failed.code and failed.message
        assert not failed.retriable
        assert (results[0].id, results[2].id) == (one, three)
        assert results[3].created and adapter.deals_with_text("Brand new") == [results[3].id]
        assert adapter.read_text(one) == "Renamed one"
        assert adapter.read_text(three) == "Renamed three"

    @needs("write")
    def test_writes_are_batched_at_the_api_maximum(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer
    ) -> None:
        ids = adapter.seed_deals(adapter.write_batch_size + 5)
        writes = [RecordWrite(f"r{i}", deal_id, {adapter.text_field: f"Batch {i}"})
                  for i, deal_id in enumerate(ids)]
        before = connector.usage.calls.get("write", 0)

        results = connector.write(adapter.deal_object, writes)

        assert [r.ref for r in results] == [w.ref for w in writes]
        assert all(r.ok for r in results)
        assert connector.usage.calls.get("write", 0) - before == math.ceil(
            len(writes) / adapter.write_batch_size)
        assert adapter.read_text(ids[-1]) == f"Batch {len(ids) - 1}"

    @needs("tasks")
    def test_upserting_tasks_twice_leaves_one_task_per_key(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer
    ) -> None:
        deal_a, deal_b = adapter.seed_deals(2)
        target = adapter.task_target
        tasks = [TaskWrite("handoff:a:intro", deal_a, adapter.task_fields("Book intro call")),
                 TaskWrite("handoff:b:intro", deal_b, adapter.task_fields("Book intro call"))]
        renamed = [TaskWrite(t.key, t.deal_id, adapter.task_fields("Book the intro call"))
                   for t in tasks]

        first = connector.upsert_tasks(target, tasks)
        second = connector.upsert_tasks(target, renamed)

        assert [r.ref for r in first] == [r.ref for r in second] == [t.key for t in tasks]
        assert all(r.ok and r.created for r in first)
        assert all(r.ok and not r.created for r in second)
        assert [r.id for r in first] == [r.id for r in second]
        for task, result in zip(tasks, first, strict=True):
            assert adapter.tasks_with_key(task.key) == [result.id]
            assert result.id is not None and adapter.task_deal(result.id) == task.deal_id

    @needs("tasks")
    def test_a_task_on_an_account_is_attached_to_the_account_once(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer
    ) -> None:
        """A partner's task (training) is upserted by key onto the partner's account."""
        target = adapter.account_task_target
        assert target is not None and target.deal_object, "say how tasks go on accounts"
        account = adapter.seed_account("Brightpath Partners")
        task = TaskWrite("readiness:brightpath:technical", account,
                         adapter.task_fields("Train on technical conversations"))

        first = connector.upsert_tasks(target, [task])
        second = connector.upsert_tasks(target, [task])

        assert [(r.ok, r.created) for r in first] == [(True, True)]
        assert [(r.ok, r.created) for r in second] == [(True, False)]
        assert first[0].id == second[0].id
        assert adapter.tasks_with_key(task.key) == [first[0].id]
        assert first[0].id is not None and adapter.task_account(first[0].id) == account

    # --- faults ----------------------------------------------------------------------
    @pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
    @needs("faults", "pull")
    def test_a_fault_during_a_pull_ends_in_success(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer,
        fake_time: FakeClock, fault: str,
    ) -> None:
        seeded = adapter.seed_deals(adapter.page_size + 3)
        _arm(frozen, adapter.api, adapter.fault_paths["pull"], FAULTS[fault])

        ids = _ids(connector.pull(adapter.deal_object, adapter.deal_fields, BEFORE))

        assert _fired(frozen)
        assert sorted(ids) == sorted(seeded)
        if fault == "429-retry-after":
            assert max(fake_time.sleeps) >= 2

    @pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
    @needs("faults", "write")
    def test_a_fault_during_an_update_ends_in_success_without_duplicates(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer,
        fake_time: FakeClock, fault: str,
    ) -> None:
        ids = adapter.seed_deals(2)
        _arm(frozen, adapter.api, adapter.fault_paths["write"], FAULTS[fault])

        results = connector.write(adapter.deal_object, [
            RecordWrite(deal_id, deal_id, {adapter.text_field: f"After {fault}"})
            for deal_id in ids])

        _drain(fault)
        assert _fired(frozen)
        assert [r.ok for r in results] == [True, True]
        assert [adapter.read_text(i) for i in ids] == [f"After {fault}"] * 2
        assert sorted(adapter.deals_with_text(f"After {fault}")) == sorted(ids)
        if fault == "429-retry-after":
            assert max(fake_time.sleeps) >= 2

    @pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
    @needs("faults", "write")
    def test_a_fault_during_a_create_never_creates_twice(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer,
        fault: str,
    ) -> None:
        marker = f"Created through {fault}"
        _arm(frozen, adapter.api, adapter.fault_paths["write"], FAULTS[fault])

        try:
            results = connector.write(adapter.deal_object,
                                      [RecordWrite("new", None, adapter.new_deal(marker))])
        except ConnectorError as exc:  # a create whose fate is unknown is not repeated
            _drain(fault)
            assert _fired(frozen)
            assert str(exc)
            assert len(adapter.deals_with_text(marker)) <= 1
        else:
            _drain(fault)
            assert _fired(frozen)
            assert results[0].ok
            assert adapter.deals_with_text(marker) == [results[0].id]

    @pytest.mark.parametrize("fault", list(FAULTS), ids=list(FAULTS))
    @needs("faults", "tasks")
    def test_a_fault_during_a_task_upsert_ends_in_success_without_duplicates(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer,
        fault: str,
    ) -> None:
        (deal,) = adapter.seed_deals(1)
        _arm(frozen, adapter.api, adapter.fault_paths["upsert"], FAULTS[fault])
        task = TaskWrite(f"handoff:{fault}", deal, adapter.task_fields("Send the brief"))

        (result,) = connector.upsert_tasks(adapter.task_target, [task])

        _drain(fault)
        assert _fired(frozen)
        assert result.ok
        assert adapter.tasks_with_key(task.key) == [result.id]

    @needs("faults", "pull")
    def test_a_fault_that_never_clears_ends_in_a_clear_error(
        self, adapter: ContractAdapter, connector: Connector, frozen: SandboxServer,
        fake_time: FakeClock,
    ) -> None:
        adapter.seed_deals(1)
        _arm(frozen, adapter.api, adapter.fault_paths["pull"], 503, count=1_000)

        with pytest.raises(RetriesExhausted) as exc:
            list(connector.pull(adapter.deal_object, adapter.deal_fields, BEFORE))

        assert adapter.api in str(exc.value)
        assert "503" in str(exc.value)  # what kept failing
        # Whether anyone tries again is the caller's to say (the daemon's next cycle),
        # not the connector's: a one-shot command has no later.
        assert not re.search(r"\bagain\b|\blater\b", str(exc.value))
        assert len(fake_time.sleeps) >= 1

    # --- metadata --------------------------------------------------------------------
    def test_describe_names_the_fields_and_is_cached_until_the_next_cycle(
        self, adapter: ContractAdapter, connector: Connector
    ) -> None:
        schema = connector.describe(adapter.deal_object)
        calls = connector.usage.total

        again = connector.describe(adapter.deal_object)
        cached_calls = connector.usage.total
        connector.start_cycle()
        fresh = connector.describe(adapter.deal_object)

        for name in adapter.deal_fields:
            assert schema.get(name) is not None, name
        assert again is schema
        assert cached_calls == calls
        assert fresh is not schema  # described again
        if "usage" not in adapter.lacks:
            assert connector.usage.total > calls

    @needs("owners")
    def test_owners_report_email_active_flag_and_manager(
        self, adapter: ContractAdapter, connector: Connector
    ) -> None:
        expected = adapter.seed_owners()

        owners = {owner.id: owner for owner in connector.owners()}

        for owner in expected:
            assert owners.get(owner.id) == owner
        assert all(o.email == o.email.lower() for o in owners.values())

    # --- what a connector lacks ------------------------------------------------------
    def test_what_it_lacks_it_refuses_loudly_never_by_doing_nothing(
        self, adapter: ContractAdapter, connector: Connector
    ) -> None:
        """The cycle holds every side as a Connector: a read it cannot make raises a
        ConnectorError, a write it cannot make fails each record (not retriable, in
        input order) and changes nothing, and a system without users has no owners."""
        if not set(adapter.lacks) & {"pull", "fetch", "write", "tasks", "create", "owners"}:
            pytest.skip(f"{adapter.api} lacks nothing the contract can call")
        [deal] = adapter.seed_deals(1)
        before = adapter.read_text(deal)

        if "pull" in adapter.lacks:
            with pytest.raises(ConnectorError):
                list(connector.pull(adapter.deal_object, adapter.deal_fields, BEFORE))
        if "fetch" in adapter.lacks:
            with pytest.raises(ConnectorError):
                connector.fetch(adapter.deal_object, [deal], adapter.deal_fields)
        refused = []
        if "write" in adapter.lacks:
            refused.append((["w1", "w2"], connector.write(adapter.deal_object, [
                RecordWrite("w1", deal, {adapter.text_field: "Renamed"}),
                RecordWrite("w2", None, adapter.new_deal("Brand new"))])))
            assert adapter.read_text(deal) == before
            assert adapter.deals_with_text("Brand new") == []
        if "tasks" in adapter.lacks:
            refused.append((["k1", "k2"], connector.upsert_tasks(adapter.task_target, [
                TaskWrite("k1", deal, adapter.task_fields("Book intro call")),
                TaskWrite("k2", deal, adapter.task_fields("Send the brief"))])))
            assert adapter.tasks_with_key("k1") == adapter.tasks_with_key("k2") == []
        if "create" in adapter.lacks:
            refused.append((["c1"], connector.create_deals(
                CreateTarget(adapter.deal_object, adapter.text_field),
                [DealCreate("c1", adapter.new_deal("Created"))])))
            assert adapter.deals_with_text("Created") == []
        for refs, results in refused:
            assert [r.ref for r in results] == refs
            for result in results:
                assert not result.ok and result.error is not None
                assert result.error.code and result.error.message
                assert not result.error.retriable
        if "owners" in adapter.lacks:
            assert connector.owners() == []
