"""The connector contract's part on creating deals by key (``Connector.create_deals``).

Kept beside ``contract.ConnectorContract`` as a class of its own so each suite stays a
readable size; a system's contract test class lists both::

    class TestHubSpotContract(ConnectorContract, DealCreationContract): ...

What it pins down: creating deals twice by one key leaves one deal per key, the second
call finding the first (``created`` False) and leaving it as it is; each is attached to
its customer account, one account per domain; two connectors creating one key at once
(two replicas) make one deal; a fault during a creation (a 500, a dropped connection, a
stall) never makes a second one. A connector that lacks "create" is skipped here and must
refuse it loudly (``ConnectorContract``'s lacks test).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest

from connectors.base import Connector, DealCreate
from connectors.errors import ConnectorError
from handoff_sync.sandbox.server import SandboxServer
from handoff_sync.testing.clock import FakeClock
from handoff_sync.testing.contract import FAULTS, ContractAdapter, _arm, _drain, _fired, needs


class DealCreationContract:
    """Tests every connector that creates deals passes (fixtures: ConnectorContract's)."""

    @needs("create")
    def test_creating_deals_twice_by_key_leaves_one_deal_each_on_its_account(
        self, adapter: ContractAdapter, connector: Connector
    ) -> None:
        target = adapter.create_target
        assert target is not None
        deals = [DealCreate("contract:create:a", adapter.new_deal("Created A"),
                            "Created Account", "created-account.example"),
                 DealCreate("contract:create:b", adapter.new_deal("Created B"),
                            "Created Account Inc", "www.Created-Account.example")]

        first = connector.create_deals(target, deals)
        second = connector.create_deals(target, [
            DealCreate(d.key, adapter.new_deal("Renamed"), d.account_name, d.account_domain)
            for d in deals])

        assert [r.ref for r in first] == [r.ref for r in second] == [d.key for d in deals]
        assert all(r.ok and r.created and r.id for r in first), first
        assert all(r.ok and not r.created for r in second), second
        assert [r.id for r in first] == [r.id for r in second]
        for deal, result in zip(deals, first, strict=True):
            assert adapter.deals_with_key(deal.key) == [result.id]
            assert result.id is not None and adapter.read_text(result.id) != "Renamed"
        accounts = {adapter.deal_account(str(r.id)) for r in first}
        assert len(accounts) == 1 and None not in accounts  # one domain, one account

    @needs("create")
    def test_two_connectors_creating_one_key_at_once_make_one_deal(
        self, adapter: ContractAdapter, fake_time: FakeClock
    ) -> None:
        """Two replicas racing on one registration: the key field's uniqueness decides."""
        target = adapter.create_target
        assert target is not None
        deal = DealCreate("contract:create:race", adapter.new_deal("Raced"), "Race Co",
                          "race.example")
        barrier = threading.Barrier(2)
        results: list[Any] = []

        def create() -> None:
            connector = adapter.make_connector(fake_time)
            try:
                barrier.wait(timeout=10)
                results.extend(connector.create_deals(target, [deal]))
            finally:
                connector.close()

        threads = [threading.Thread(target=create) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        found = adapter.deals_with_key(deal.key)
        assert len(found) == 1
        made = [r for r in results if r.ok]
        assert made and all(r.id == found[0] for r in made)
        assert sum(r.created for r in results) <= 1

    @pytest.mark.parametrize("fault", ["500", "drop", "stall"])
    @needs("create", "faults")
    def test_a_fault_during_a_creation_never_creates_twice(
        self, adapter: ContractAdapter, connector: Connector, sandbox: SandboxServer,
        fault: str
    ) -> None:
        target = adapter.create_target
        assert target is not None
        deal = DealCreate("contract:create:fault", adapter.new_deal("Faulted"), None, None)
        _arm(sandbox, adapter.api, adapter.fault_paths["create"], FAULTS[fault])
        with contextlib.suppress(ConnectorError):  # it may give up; what counts is the
            connector.create_deals(target, [deal])  # system's records afterwards
        _drain(fault)
        assert _fired(sandbox)
        [again] = connector.create_deals(target, [deal])
        assert again.ok and adapter.deals_with_key(deal.key) == [again.id]
