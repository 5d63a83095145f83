"""Alembic revisions of the handoff-sync state store (see README.md in this folder).

A package so the script location is found wherever handoff-sync is installed
(``handoff_sync.store.revisions.script_location``).
"""
