"""The demo's story, pinned: what `handoff-sync demo` prints and the numbers it writes to
demo-summary.json, compared with a golden copy (tests/e2e/data/demo_golden.json).

The golden copy was made by the build before the layout change (issue 15) and proves a
refactor changes nothing a user sees. Only what must differ between runs is masked:
folders, ports, durations and the sandbox's date (the story's numbers do not depend on
the weekday it starts on: the week that passes is long enough for any). When a change is
meant to alter the demo, regenerate the copy with
`python -m tests.e2e.test_demo_golden` and say why in the commit.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

from handoff_sync.cli.main import main

GOLDEN = Path(__file__).parent / "data" / "demo_golden.json"
# Keys whose values differ from run to run, whatever the code.
RUN_SPECIFIC = {"folder", "config", "database", "sandbox_url", "report", "sandbox_time",
                "elapsed_seconds", "seconds"}
MASKS = [
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC"), "<date> UTC"),
    (re.compile(r"\b\d+\.\d+ s\b"), "<n> s"),
    (re.compile(r"https://127\.0\.0\.1:\d+"), "https://127.0.0.1:<port>"),
]


def masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items() if k not in RUN_SPECIFIC}
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, str):
        for pattern, mask in MASKS:
            value = pattern.sub(mask, value)
    return value


def run_demo(folder: Path) -> dict[str, Any]:
    """The demo's printed lines and its summary, masked."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["demo", "--dir", str(folder)])
    lines = [line.replace(str(folder), "<dir>") for line in printed.getvalue().splitlines()]
    summary = json.loads((folder / "demo-summary.json").read_text(encoding="utf-8"))
    return {"exit_code": code, "printed": masked(lines), "summary": masked(summary)}


def test_the_demo_tells_the_same_story_as_the_golden_copy(tmp_path: Path) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert run_demo(tmp_path / "demo") == golden


def test_the_masks_hide_only_what_differs_between_runs() -> None:
    """A count in a printed line is not masked away (the golden check cannot go blind)."""
    line = "  cycle 4 (ok, 0.7 s): 887 records read, 51 written; tasks 51 created"
    assert masked(line) == "  cycle 4 (ok, <n> s): 887 records read, 51 written; tasks 51 created"
    assert masked({"seconds": 1.5, "counts": {"tasks_created": 3}}) == {
        "counts": {"tasks_created": 3}}


if __name__ == "__main__":  # regenerate the golden copy
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        GOLDEN.write_text(json.dumps(run_demo(Path(tmp) / "demo"), indent=1) + "\n",
                          encoding="utf-8")
    print(f"wrote {GOLDEN}", file=sys.stderr)
