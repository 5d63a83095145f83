"""The Salesforce REST emulation: the org's schema and records, SOQL, describe, Bulk API 2.0
query jobs, and the routes that serve them (one module per endpoint group)."""
