"""A loopback emulator of the Salesforce REST and HubSpot CRM v3 subsets handoff-sync uses.

Start it with ``handoff-sync sandbox`` or, from Python, ``SandboxServer().start()``
(handoff_sync.sandbox.server). The product talks to it only over HTTPS, exactly as it
talks to Salesforce and HubSpot.
"""
