"""One sync cycle of one pipeline: connect, pull, map, plan, write, drift."""
