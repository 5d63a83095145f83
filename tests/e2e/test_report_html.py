"""The HTML report in a real browser, on a laptop screen: headless Chromium (Debian's
package, driven through Selenium and Debian's chromedriver) opens the demo's report and a
57-partner report at 1280 and 1440 px wide, and for every section of ``figures.SECTIONS``
(so a section added later is covered without touching this file) checks what a reader
would notice: the section is shown with its heading, nothing is wider than the page or
spills out of its column, the section uses the page's width, every chart it has is drawn
(coloured ink in its pixels), fills its column, keeps its text legible (neither tiny
nor blown up) and inside its edges and labels its target lines; and the page logs no
console error. The demo's charts, all sections together, show every colour family
(partner, direct, registrations, SLA, maturity).

One screenshot per section and width is kept under $HANDOFF_SYNC_ARTEFACTS (default:
pytest's temporary folder), printed at the end, so a person can look at them.

A chart's ink is counted in the browser itself: its screenshot (a PNG from DevTools) is
drawn on a canvas and its pixels compared with the PALETTE colours, which is quick and
needs no imaging package.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from handoff_sync.report import SECTIONS, render
from handoff_sync.report.facts import PARTNER, DealFact
from handoff_sync.report.figures import SECTION_TITLES, compute
from handoff_sync.report.svg import PALETTE
from tests.unit.test_report_figures import DATA, NOW

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTHS = (1280, 1440)
PAGE_MAX = 1400  # main's max-width in html_kit.CSS
MIN_FONT_PX = 9.0  # chart text smaller than this on screen is unreadable
MAX_FONT_PX = 18.0  # larger: a chart drawn for a narrow column, stretched across the page
MIN_INK = 50  # pixels of a PALETTE colour a drawn chart has, at least
INK_TOLERANCE = 8  # per channel: anti-aliased edges are not ink, bar interiors are

# Sections the demo's data gives a chart: the maturity meter, the funnel, the volumes,
# distributions and rates (the key figures by group and the reviews may be tables only).
DEMO_CHARTS = ("maturity", "volume", "completeness", "sla", "preservation", "funnel",
               "readiness", "scorecard")

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a test extra")


def browser_paths() -> tuple[str, str]:
    found = (CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
             CHROMEDRIVER if os.path.exists(CHROMEDRIVER) else shutil.which("chromedriver"))
    if None in found:
        message = (f"{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install -y "
                   "--no-install-recommends chromium chromium-driver")
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs them (.ci/run): missing there is a failure
        pytest.skip(message)
    return found[0] or CHROMIUM, found[1] or CHROMEDRIVER


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    chromium, chromedriver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                     "--force-device-scale-factor=1", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory,
              request: pytest.FixtureRequest) -> Iterator[Path]:
    root = os.environ.get("HANDOFF_SYNC_ARTEFACTS")
    folder = (Path(root) if root else tmp_path_factory.mktemp("artefacts")) / "report-html"
    folder.mkdir(parents=True, exist_ok=True)
    yield folder
    # On the terminal even when output is captured: where to look at the screenshots.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture()
    try:
        print(f"\nHTML report screenshots, one per section and width: {folder}")
    finally:
        if capture is not None:
            capture.resume_global_capture()


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report `handoff-sync demo` writes (the whole product path, every section)."""
    from handoff_sync.daemon.logs import configure_logging
    from handoff_sync.demo.scenario import Demo, DemoOptions

    configure_logging("warning")  # as the demo command does: its cycles' lines are noise
    folder = tmp_path_factory.mktemp("demo") / "demo"
    with Demo(DemoOptions(folder=folder)) as demo:
        result = demo.run()
    assert result.report is not None, result.report_problem
    return result.report


def many_partners_report(folder: Path) -> tuple[Path, int]:
    """57 more partners, some with long names: more groups than a chart draws. The page,
    and how many partner groups its volume table has."""
    deals = tuple(DealFact(f"prm:{i}", PARTNER, partner=f"Partner {i:02d}" + (
        " Managed Services and Cloud Integration Consultants" if i % 7 == 0 else ""),
        handoff_type="partner_to_direct", required=True, completeness_pct=i % 100)
        for i in range(57))
    report = compute(replace(DATA, deals=DATA.deals + deals), now=NOW)
    page = folder / "many-partners.html"
    page.write_text(render(report, "html"), encoding="utf-8")
    return page, len(report.volume.rows)


SECTION_METRICS = """
const s = arguments[0], style = getComputedStyle(s), box = s.getBoundingClientRect();
const spills = [];
for (const el of s.querySelectorAll('table, svg, .kpis, .cols, .grid, .grid3, p, ul')) {
  const e = el.getBoundingClientRect(), p = el.parentElement.getBoundingClientRect();
  if (e.right > p.right + 1 || e.left < p.left - 1)
    spills.push(el.tagName + ' ' + (el.getAttribute('aria-label') || el.className || '')
                + ' ' + Math.round(e.width) + ' px in ' + Math.round(p.width) + ' px');
}
const charts = [...s.querySelectorAll('svg')].map(svg => {
  const b = svg.getBoundingClientRect(), view = svg.viewBox.baseVal;
  const parent = svg.parentElement, pad = getComputedStyle(parent);
  const scale = b.width / view.width;
  const texts = [...svg.querySelectorAll('text')];
  const sizes = texts.map(t => parseFloat(t.getAttribute('font-size') || '12') * scale);
  const cut = texts.filter(t => { const r = t.getBoundingClientRect();
    return r.width > 0 && (r.right > b.right + 1 || r.left < b.left - 1); });
  return {title: svg.getAttribute('aria-label'), x: b.left + scrollX, y: b.top + scrollY,
          cut: cut.map(t => t.textContent),
          width: b.width, height: b.height, column: parent.clientWidth
            - parseFloat(pad.paddingLeft) - parseFloat(pad.paddingRight),
          smallest: sizes.length ? Math.min(...sizes) : 99,
          largest: sizes.length ? Math.max(...sizes) : 0,
          dashed: svg.querySelectorAll('line[stroke-dasharray]').length,
          labelled: texts.filter(t => /target|threshold/.test(t.textContent)).length};
});
return {shown: box.width > 0 && box.height > 0 && style.display !== 'none'
               && style.visibility !== 'hidden',
        heading: (s.querySelector('h2') || {}).textContent, left: box.left,
        right: box.right, width: box.width, x: box.left + scrollX, y: box.top + scrollY,
        height: box.height, scrollWidth: s.scrollWidth, clientWidth: s.clientWidth,
        spills, charts};
"""


def capture(chrome: Any, x: float, y: float, width: float, height: float) -> str:
    """A PNG of that part of the page, also below the window (Chrome's DevTools call),
    base64-encoded."""
    shot = chrome.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": x, "y": y, "width": width, "height": height, "scale": 1}})
    data: str = shot["data"]
    return data


COUNT_COLOURS = """
const [png, done] = arguments;
const image = new Image();
image.onerror = () => done(null);
image.onload = () => {
  const canvas = document.createElement('canvas');
  canvas.width = image.width; canvas.height = image.height;
  const paint = canvas.getContext('2d');
  paint.drawImage(image, 0, 0);
  const pixels = paint.getImageData(0, 0, canvas.width, canvas.height).data;
  const counts = new Map();
  for (let i = 0; i < pixels.length; i += 4) {
    const key = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  done([...counts.entries()]);
};
image.src = 'data:image/png;base64,' + png;
"""


def colours(chrome: Any, png: str) -> Counter[str]:
    """Pixels of each PALETTE colour in ``png`` (bars, lines, meters): a chart's ink.
    The browser counts the pixels of each colour; a colour is ink within INK_TOLERANCE
    of a PALETTE colour (named by its first name: bar and line are partner's blue)."""
    counts = chrome.execute_async_script(COUNT_COLOURS, png)
    assert counts is not None, "the screenshot is not an image"
    names: dict[tuple[int, int, int], str] = {}
    for name, colour in PALETTE.items():
        if name not in ("target", "empty"):  # the target line, an empty level box
            names.setdefault(rgb(colour), name)
    ink: Counter[str] = Counter()
    for key, count in counts:
        seen = (key >> 16, (key >> 8) & 0xFF, key & 0xFF)
        for colour, name in names.items():
            if all(abs(a - b) <= INK_TOLERANCE for a, b in zip(seen, colour, strict=True)):
                ink[name] += count
                break
    return ink


def rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour.lstrip("#"), 16)
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def check_page(chrome: Any, page: Path, width: int, folder: Path,
               charted: tuple[str, ...] = ()) -> Counter[str]:
    """Every section of ``page`` at ``width`` px: problems raise; the screenshots are
    kept in ``folder``; returns the chart ink seen, by PALETTE colour name. A section may
    be tables only (the key figures by group); those in ``charted`` must draw a chart."""
    chrome.set_window_size(width, 900)
    chrome.get(page.resolve().as_uri())
    inner = chrome.execute_script("return window.innerWidth")
    assert inner == width, "the window is not the laptop width asked for"
    assert chrome.execute_script("return document.documentElement.scrollWidth") <= width, \
        "the page is wider than the screen (a horizontal scroll bar)"
    folder.mkdir(parents=True, exist_ok=True)
    ink: Counter[str] = Counter()
    usable = min(width, PAGE_MAX) - 2 * 24  # main's padding
    for section in SECTIONS:
        element = chrome.find_element("css selector", f'section[data-section="{section}"]')
        found = chrome.execute_script(SECTION_METRICS, element)
        shot = folder / f"{section}.png"
        shot.write_bytes(base64.b64decode(capture(chrome, found["x"], found["y"],
                                                  found["width"], found["height"])))
        where = f"{section} at {width} px ({shot})"
        assert found["shown"], f"{where}: not shown"
        assert found["heading"] == SECTION_TITLES[section], where
        assert found["right"] <= width and found["left"] >= 0, f"{where}: off the screen"
        assert found["width"] >= usable - 2, f"{where}: leaves the page's width empty"
        assert found["scrollWidth"] <= found["clientWidth"], f"{where}: content overflows"
        assert found["spills"] == [], f"{where}: {found['spills']}"
        assert found["charts"] or section not in charted, f"{where}: no chart"
        for chart in found["charts"]:
            name = f"{where}, chart {chart['title']!r}"
            assert chart["width"] >= chart["column"] - 1, f"{name}: narrower than its column"
            assert chart["smallest"] >= MIN_FONT_PX, f"{name}: text {chart['smallest']:.1f} px"
            assert chart["largest"] <= MAX_FONT_PX, f"{name}: text {chart['largest']:.1f} px"
            assert chart["cut"] == [], f"{name}: text cut at the chart's edge"
            if chart["dashed"]:
                assert chart["labelled"] >= chart["dashed"], f"{name}: unlabelled target line"
            drawn = colours(chrome, capture(chrome, chart["x"], chart["y"], chart["width"],
                                            chart["height"]))
            assert sum(drawn.values()) >= MIN_INK, f"{name}: nothing drawn"
            ink.update(drawn)
    errors = [entry["message"] for entry in chrome.get_log("browser")
              if entry["level"] == "SEVERE"]
    assert errors == [], errors
    return ink


@pytest.mark.parametrize("width", WIDTHS)
def test_the_demo_report_reads_on_a_laptop_screen(driver: Any, demo_report: Path,
                                                  artefacts: Path, width: int) -> None:
    ink = check_page(driver, demo_report, width, artefacts / "demo" / str(width),
                     charted=DEMO_CHARTS)
    # The chart families are drawn in their colours: partner and direct bars, the
    # registrations not in the CRM, within-SLA and breached segments, the maturity meter.
    for name in ("partner", "direct", "prm_only", "within", "breached"):
        assert ink[name] > 50, name
    assert ink["level2"] + ink["level3"] > 50


@pytest.mark.parametrize("width", WIDTHS)
def test_a_report_of_57_partners_says_what_its_charts_leave_out(
        driver: Any, artefacts: Path, tmp_path: Path, width: int) -> None:
    page, groups = many_partners_report(tmp_path)
    assert groups == 61  # the 57, and DATA's A, B, C and (direct)
    check_page(driver, page, width, artefacts / "57-partners" / str(width))
    volume = driver.find_element("css selector", 'section[data-section="volume"]')
    assert "Deals by partner (top 20 of 61; all in the table)" in volume.text
    assert "Partner 56" in volume.text  # the table lists every one
