"""IO with outside systems: one module per system, one protocol (see connectors/base.py)."""
