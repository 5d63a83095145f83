"""The report at scale: reading its rows, each figure family and rendering, at N deals.

The store is the demo's (`handoff-sync demo`: 500 seeded deals, five cycles, so it has
gate history, SLA events, decisions, tasks and review items), copied until it holds N
deals (default 100,000): every copy renames the deals' record ids (HubSpot ids moved by
a million, Salesforce ids by a number in their fixed digits), so links, bases, clocks,
tasks and review keys follow, and copy k's partners are renamed into one of
``--partner-sets`` sets (default 20: 240 partners), so partner groups grow as an org's
do, not only their size. Both the demo and the copied store are kept on disk
(``--cache``, default a folder in the system's temp folder) and reused while the store's
migrations and this script's copying stay the same.

Then it times, as the console's /reports page runs them:

  read      report.source.read_report_data (the rows out of the store, mapped) and the
            filter choices (report.selection.options);
  figures   report.figures.compute, split by the function of each figure family it
            calls (funnel, sla, quality, scorecard...; the rest is "other");
  render    every section and the notes as HTML (report.render_html), as the page shows.

unfiltered and for the largest partner. Each is timed ``--repeat`` times (default 3)
and its median printed; the last line is
`report: <total ms> ms at <N> deals (read <ms>, figures <ms>, render <ms>)`, unfiltered.
``--profile FILE`` writes a cProfile of one unfiltered compute. Then, as the console's
minute tick: the unfiltered figures a minute later from the same rows, with the rows'
funnel memo (checked equal to the figures computed afresh).

    .venv/bin/python benchmarks/report_figures.py [--deals 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import io
import json
import math
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from handoff_sync.cli.main import main as cli  # noqa: E402
from handoff_sync.config.load import load_config  # noqa: E402
from handoff_sync.daemon.logs import configure_logging  # noqa: E402
from handoff_sync.mapping.loader import load_mappings  # noqa: E402
from handoff_sync.report import figures  # noqa: E402
from handoff_sync.report.basis import group_of  # noqa: E402
from handoff_sync.report.figures import SECTIONS, compute  # noqa: E402
from handoff_sync.report.funnel import FunnelMemo  # noqa: E402
from handoff_sync.report.render_html import notes_html, section_html  # noqa: E402
from handoff_sync.report.selection import Selection, options  # noqa: E402
from handoff_sync.report.source import read_report_data  # noqa: E402
from handoff_sync.store import Store  # noqa: E402
from handoff_sync.store.codec import (  # noqa: E402
    PACKED_DICTIONARY,
    PackDictionary,
    pack,
    unpack,
)

COPYING = 2  # bump when the copying below changes: cached stores are then built again
# The functions compute() calls, one per figure family, as figures.py names them.
FAMILIES = ("select", "in_period", "volume", "breakdown", "completeness", "sla",
            "acceptance", "preservation", "quality", "compute_funnels", "reviews",
            "scorecard", "partner_readiness", "assess")
# Tables copied per copy of the demo (history tables get new ids: their "id" is dropped).
COPIED = ("mirror", "links", "bases", "tasks", "clocks", "verdicts", "gate_history",
          "sla_events", "handoff_decisions", "handoff_baselines", "reviews", "conflicts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--partner-sets", type=int, default=20,
                        help="copies' partners fall into this many renamed sets")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each step")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "hs-bench-report",
                        help="where the demo and the copied stores are kept")
    parser.add_argument("--profile", type=Path, help="write a cProfile of one compute")
    args = parser.parse_args()
    configure_logging("error", "json")
    demo = demo_folder(args.cache)
    now = datetime.fromisoformat(
        json.loads((demo / "demo-summary.json").read_text(encoding="utf-8"))["sandbox_time"])
    started = time.perf_counter()
    database = big_store(demo, args.cache, args.deals, args.partner_sets)
    print(f"store: {database} ({database.stat().st_size / 1e6:,.0f} MB, ready in "
          f"{time.perf_counter() - started:.1f} s)")
    config = load_config(demo / "handoff-sync.yaml")
    pipeline = config.pipelines[0]
    mappings = load_mappings(Path(pipeline.mappings))
    store = Store.connect(f"sqlite:///{database}")
    try:
        read_ms, data = timed(args.repeat, lambda: read_report_data(
            store, pipeline.name, mappings))
        options_ms, _ = timed(args.repeat, lambda: options(data))
    finally:
        store.close()
    deals = len(data.deals)
    partners = Counter(group_of(d, "partner") for d in data.deals if d.kind != "direct")
    print(f"rows: {deals:,} deals, {len(data.clocks):,} clocks, {len(data.history):,} gate "
          f"history rows, {len(data.events):,} SLA events, {len(data.tasks):,} tasks, "
          f"{len(partners):,} partners")
    print(f"{'read rows':<28}{read_ms:>10.0f} ms")
    print(f"{'filter choices':<28}{options_ms:>10.0f} ms")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(compute, data, now=now)
        profile.dump_stats(args.profile)
        print(f"profile of one compute: {args.profile}")
    total = 0.0
    figures_total = render_total = 0.0
    biggest = partners.most_common(1)[0][0] if partners else None
    runs = [("unfiltered", Selection())]
    if biggest is not None:
        runs.append((f"partner {biggest}", Selection.of({"partner": [biggest]})))
    for name, selection in reversed(runs):  # unfiltered last: its figures end the output
        families, figures_ms, report = time_compute(args.repeat, data, now, selection)
        render_ms, _ = timed(args.repeat, lambda report=report: render_sections(report))
        print(f"-- {name}")
        for family, ms in families:
            print(f"   {family:<25}{ms:>10.0f} ms")
        print(f"   {'figures (compute)':<25}{figures_ms:>10.0f} ms")
        print(f"   {'render (HTML sections)':<25}{render_ms:>10.0f} ms")
        figures_total, render_total = figures_ms, render_ms
        total = read_ms + options_ms + figures_ms + render_ms
    # The console's minute tick: the same rows a minute later, with the rows' funnel memo
    # (the funnels do not depend on ``now``); the same figures as computed afresh.
    memo, later = FunnelMemo(), now + timedelta(minutes=1)
    compute(data, now=now, memo=memo)
    tick_ms, ticked = timed(args.repeat, lambda: compute(data, now=later, memo=memo))
    if ticked != compute(data, now=later):
        raise SystemExit("the memo changed a figure")
    print(f"{'figures, a minute later':<28}{tick_ms:>10.0f} ms (same rows, funnels kept)")
    print(f"report: {total:.0f} ms at {deals} deals (read {read_ms + options_ms:.0f}, "
          f"figures {figures_total:.0f}, render {render_total:.0f})")


def timed(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """The median milliseconds of ``repeat`` runs, and the last run's result."""
    times, result = [], None
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def time_compute(repeat: int, data: Any, now: datetime, selection: Selection,
                 ) -> tuple[list[tuple[str, float]], float, Any]:
    """compute()'s median milliseconds, split by figure family (median per family)."""
    spent: dict[str, list[float]] = defaultdict(list)
    totals: list[float] = []
    report = None
    for _ in range(max(1, repeat)):
        mine: Counter[str] = Counter()
        with families_timed(mine):
            started = time.perf_counter()
            report = compute(data, now=now, selection=selection)
            totals.append((time.perf_counter() - started) * 1000)
        for family in FAMILIES:
            spent[family].append(mine[family])
        spent["other"].append(totals[-1] - sum(mine.values()))
    rows = [(family, statistics.median(spent[family])) for family in (*FAMILIES, "other")
            if family in spent]
    return rows, statistics.median(totals), report


@contextlib.contextmanager
def families_timed(spent: Counter[str]) -> Iterator[None]:
    """figures.py's family functions, wrapped to add their milliseconds to ``spent``."""
    saved = {name: getattr(figures, name) for name in FAMILIES if hasattr(figures, name)}

    def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += (time.perf_counter() - started) * 1000
        return run

    for name, function in saved.items():
        setattr(figures, name, wrap(name, function))
    try:
        yield
    finally:
        for name, function in saved.items():
            setattr(figures, name, function)


def render_sections(report: Any) -> str:
    """What the /reports page renders of a report: every section, then the notes."""
    return "".join(section_html(report, s) for s in SECTIONS) + notes_html(report)


# --- the store ------------------------------------------------------------------------

def demo_folder(cache: Path) -> Path:
    """The demo's folder (run once, then reused while its summary is there)."""
    folder = cache / "demo"
    if not (folder / "demo-summary.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = cli(["demo", "--dir", str(folder)])
        if code != 0:
            raise SystemExit(f"the demo failed (exit {code}): run `handoff-sync demo` to see")
        print(f"demo: run in {time.perf_counter() - started:.1f} s")
    return folder


def big_store(demo: Path, cache: Path, deals: int, partner_sets: int) -> Path:
    """The demo's store copied to hold about ``deals`` deals (cached by size, sets, the
    migrations' head and COPYING)."""
    source = demo / "handoff-sync.db"
    with sqlite3.connect(source) as db:
        revision = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        per_copy = db.execute("SELECT count(*) FROM verdicts").fetchone()[0]
    copies = max(1, math.ceil(deals / per_copy))
    target = cache / f"report-{copies}x-{partner_sets}sets-{revision}-c{COPYING}.db"
    if target.exists():
        return target
    partial = target.with_suffix(".partial")
    shutil.copyfile(source, partial)
    with contextlib.closing(sqlite3.connect(partial)) as db:
        Copier(db, partner_sets).copy(range(1, copies))
        db.commit()
    partial.rename(target)
    return target


class Copier:
    """Copies of the demo's deal rows, their ids (and partners) renamed by a regex over
    every text column, so ids inside JSON (links, task specs, review details) follow; the
    packed columns (mirrored records, base snapshots) are unpacked, renamed and packed
    again with the dictionary they were packed with."""

    def __init__(self, db: sqlite3.Connection, partner_sets: int) -> None:
        self.db = db
        self.sets = max(1, partner_sets)
        self.rows = {name: self._read(name) for name in COPIED}
        self.partners = self._read("partner_accounts")
        self.ids = frozenset(r for (r,) in db.execute("SELECT record_id FROM mirror"))
        names = [row["name"] for row in self.partners[1]]
        self.names = _words(names) if names else None
        self.accounts = frozenset(row["account_id"] for row in self.partners[1])
        self.dictionaries = {int(number): bytes(data) for number, data in db.execute(
            "SELECT id, data FROM pack_dictionaries")}
        if not all(WORD.fullmatch(i) for i in self.ids | self.accounts):
            raise SystemExit("the demo's ids changed shape: update Copier's WORD")

    def _read(self, name: str) -> tuple[list[str], list[dict[str, Any]]]:
        cursor = self.db.execute(f"SELECT * FROM {name}")
        columns = [c[0] for c in cursor.description]
        return columns, [dict(zip(columns, row, strict=True)) for row in cursor]

    def copy(self, copies: range) -> None:
        for k in copies:
            rename = self._renamer(k)
            for name, (columns, rows) in self.rows.items():
                kept = [c for c in columns if c != "id"]  # history ids: new ones
                out = []
                for row in rows:
                    if name == "tasks" and str(row["deal"] or "").startswith("partner:"):
                        continue  # partner training tasks: one set each, below
                    new = {c: rename(v) for c, v in row.items()}
                    if name == "tasks":
                        new["task_key"] = f"{row['task_key']}-{k}"
                    out.append(tuple(new[c] for c in kept))
                self._insert(name, kept, out)
            if k < self.sets:  # the first copy of each partner set adds its partners
                self._add_partner_set(k, rename)

    def _add_partner_set(self, k: int, rename: Callable[[Any], Any]) -> None:
        columns, rows = self.partners
        self._insert("partner_accounts", columns,
                     [tuple(rename(row[c]) for c in columns) for row in rows])
        task_columns, tasks = self.rows["tasks"]
        kept = [c for c in task_columns if c != "id"]
        trained = [dict(row, task_key=f"{row['task_key']}-{k}") for row in tasks
                   if str(row["deal"] or "").startswith("partner:")]
        self._insert("tasks", kept, [tuple(rename(row[c]) if c != "task_key" else row[c]
                                           for c in kept) for row in trained])

    def _renamer(self, k: int) -> Callable[[Any], Any]:
        s = k % self.sets

        def word(match: re.Match[str]) -> str:
            old = match.group(0)
            if old in self.ids:
                if old.isdigit():
                    return str(int(old) + k * 1_000_000)
                return old[:5] + f"{k:03d}" + old[8:]  # Salesforce: its leading digits
            if s and old in self.accounts:
                return str(int(old) + s * 1000)
            return old

        def rename(value: Any) -> Any:
            if isinstance(value, bytes):  # a packed column
                return self._repack(value, rename)
            if not isinstance(value, str):
                return value
            if s and self.names is not None:
                value = self.names.sub(lambda m: f"{m.group(0)} {s}", value)
            return WORD.sub(word, value)

        return rename

    def _repack(self, packed: bytes, rename: Callable[[Any], Any]) -> bytes:
        data = json.loads(rename(json.dumps(unpack(packed, self.dictionaries))))
        if packed[:1] != PACKED_DICTIONARY:
            return pack(data)
        number = int.from_bytes(packed[1:5], "big")
        return pack(data, PackDictionary(number, self.dictionaries[number]))

    def _insert(self, name: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if rows:
            names = ", ".join(f'"{c}"' for c in columns)  # "values" is a keyword
            marks = ", ".join("?" for _ in columns)
            self.db.executemany(
                f"INSERT INTO {name} ({names}) VALUES ({marks})", rows)


# The ids renamed (record and account ids) are whole words starting with a digit.
WORD = re.compile(r"(?<!\w)\d\w*")


def _words(values: list[str]) -> re.Pattern[str]:
    """Any of ``values`` as a whole word (longest first, so no prefix wins)."""
    ordered = sorted(set(values), key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, ordered)) + r")(?![\w])")


if __name__ == "__main__":
    main()
