"""Command line: one module per command; the only code that parses argv or prints for people."""
