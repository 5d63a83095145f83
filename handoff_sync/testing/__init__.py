"""The shared test kit, for the tests, the benchmarks and connector authors.

Nothing of the product imports it (an import-linter contract in .importlinter), and only
``contract`` imports pytest, so the rest serves scripts that are not tests (benchmarks/).

- ``clock``: FakeClock, one fake time for sleeps, monotonic clocks, epoch clocks and
  datetimes (connectors, budget guards, ledgers, the file drop, the daemon).
- ``contract``: the connector contract suite (pytest): ``ConnectorContract`` and the
  ``ContractAdapter`` a system's test module implements; tests/connectors runs it for
  Salesforce, HubSpot and the file drop.
- ``builders``: engine state from a seeded sandbox org (``seeded_inputs``), the default
  mappings, and ``apply_plan`` (the inputs after a plan was carried out in full).
- ``daemon``: a real Config (``make_config``), CycleReports (``make_report``), usage
  figures, a fake runner at our own seam, an observed SQLite store, ``wait_for``.
- ``file_drop``: a file-drop mappings pack and the export columns it maps.
- ``sandbox_clients``: the real vendor clients pointed at a sandbox, configured as
  production configures them, and generous quotas for tests.
"""

from handoff_sync.testing.clock import FakeClock

__all__ = ["FakeClock"]
