"""The HTML report in a real browser: headless Chromium (Debian's package) loads the file,
logs no console error, and the screenshot shows the charts in their colours.

The PNG is decoded with the standard library (zlib + the PNG row filters), so the test
needs no imaging package.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from handoff_sync.report import SECTIONS, render
from handoff_sync.report.figures import compute
from handoff_sync.report.svg import PALETTE
from tests.unit.test_report_figures import DATA, NOW

CHROMIUM = "/usr/bin/chromium"


def chromium() -> str:
    found = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if found is None:
        message = f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it (.ci/run): missing there is a failure
        pytest.skip(message)
    return found


def decode_png(data: bytes) -> tuple[int, int, int, bytes]:
    """(width, height, bytes per pixel, raw pixel rows) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat = 8, b""
    width = height = channels = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        chunk = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * channels
    out = bytearray(height * stride)
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        out[row * stride:(row + 1) * stride] = line
        previous = line
    return width, height, channels, bytes(out)


def colour_counts(png: Path) -> Counter[tuple[int, int, int]]:
    width, height, channels, pixels = decode_png(png.read_bytes())
    return Counter(tuple(pixels[i:i + 3]) for i in range(0, width * height * channels,
                                                         channels))  # type: ignore[misc]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    value = int(hex_colour.lstrip("#"), 16)
    return value >> 16, (value >> 8) & 0xFF, value & 0xFF


def near(counts: Counter[tuple[int, int, int]], colour: tuple[int, int, int],
         tolerance: int = 6) -> int:
    return sum(n for c, n in counts.items()
               if all(abs(a - b) <= tolerance for a, b in zip(c, colour, strict=True)))


def test_html_report_renders_in_chromium_with_charts(tmp_path: Path) -> None:
    browser = chromium()
    page = tmp_path / "report.html"
    html = render(compute(DATA, now=NOW), "html")
    page.write_text(html, encoding="utf-8")
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         # Tall enough for the whole page: every figure comes with its definition.
         "--window-size=1280,9000", "--enable-logging=stderr", "--v=0",
         page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    console = [line for line in result.stderr.splitlines()
               if "Uncaught" in line or "ERROR:CONSOLE" in line or ":CONSOLE(" in line]
    assert console == [], "\n".join(console)
    assert shot.exists(), f"no screenshot (exit {result.returncode}):\n{result.stderr[-2000:]}"
    counts = colour_counts(shot)
    background = counts.most_common(1)[0][0]
    assert background in ((247, 250, 252), (255, 255, 255))
    # Bars of each chart family are drawn: partner/readiness bars, the histogram and the
    # trend line (#2b6cb0), direct bars, within-SLA and breached segments.
    for name in ("partner", "direct", "within", "breached", "prm_only"):
        assert near(counts, rgb(PALETTE[name])) > 200, name
