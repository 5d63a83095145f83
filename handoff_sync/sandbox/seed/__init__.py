"""The seed generator: a deterministic partner-program org pair for both emulations, split
by what it generates (the entry points are in :mod:`.generator`)."""
