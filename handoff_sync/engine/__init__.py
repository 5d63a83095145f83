"""The pure core: link, reconcile, gate, clock and plan (entry point: engine.plan.plan).

Nothing in this package performs IO or imports connectors/, store/ or sandbox/.
"""
