"""What both emulated vendors share: request/response types and routing, the dispatcher,
the HTTPS server, the /__sandbox__/ control plane, the clock, credentials, faults, quotas,
TLS material and the seed data handed to both stores. Nothing here knows a vendor's API."""
