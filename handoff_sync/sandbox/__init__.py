"""A loopback emulator of the Salesforce REST and HubSpot CRM v3 subsets handoff-sync uses.

Start it with ``handoff-sync sandbox`` or, from Python, ``SandboxServer().start()``
(handoff_sync.sandbox.server). The product talks to it only over HTTPS, exactly as it
talks to Salesforce and HubSpot.

core/ holds what both vendors share (dispatcher, server, control plane, clock, faults);
salesforce/ and hubspot/ one vendor each, routes split by endpoint group; seed/ the
generator of a demo org pair, split by what it generates.
"""
