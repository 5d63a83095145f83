"""The HubSpot CRM v3/v4 emulation: the portal's objects, properties, associations, owners,
pipelines and search, and the routes that serve them (one *_api module per endpoint group)."""
