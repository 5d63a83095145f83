"""HubSpot: connector, auth, batch, errors table, search, transport."""
