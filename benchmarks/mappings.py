"""Time loading and validating the default mapping packs (target: under 200 ms).

Prints one line per pack (best of several runs, so a cold disk cache does not count),
then `mappings-load: <ms> ms`: the slower pack's best time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from handoff_sync.mapping.loader import load_mappings  # noqa: E402

PACKS = (ROOT / "mappings", ROOT / "mappings" / "packs" / "salesforce-prm-hubspot-crm")
RUNS = 20


def best_ms(folder: Path) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        load_mappings(folder)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> None:
    started = time.perf_counter()
    load_mappings(PACKS[0])  # first load in a fresh process: imports, regex, zone list
    print(f"first load (cold process): {(time.perf_counter() - started) * 1000:.1f} ms")
    worst = 0.0
    for folder in PACKS:
        ms = best_ms(folder)
        worst = max(worst, ms)
        print(f"{folder.relative_to(ROOT)}: {ms:.1f} ms (best of {RUNS})")
    print(f"mappings-load: {worst:.1f} ms")


if __name__ == "__main__":
    main()
