"""`python -m handoff_sync.cli`: the same as the `handoff-sync` command."""

import sys

from handoff_sync.cli.main import main

sys.exit(main(sys.argv[1:]))
