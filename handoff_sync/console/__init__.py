"""The admin web console: sync health, the review queue, mappings and policy edited with
a what-if, and live reports, for the RevOps admins who own handoff-sync day to day.

Served by the daemon beside /healthz (``console.enabled``) or by `handoff-sync console`
on its own against the same database. Server-rendered Jinja2 pages with htmx for partial
updates; no build step, static files vendored (works offline).
"""
