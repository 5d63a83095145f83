"""The daemon's config file: sections, connections, secrets, the template."""
