"""handoff-sync: keeps partner deal registrations and CRM opportunities in step."""

__version__ = "0.1.0"
