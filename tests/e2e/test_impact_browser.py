"""End to end: the impact report's HTML in a real headless Chromium, every chart drawn, no
request made for anything outside the page, and a screenshot."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import engine
from engine.tools.impact import Side, impact
from engine.tools.impact_report import render_html
from engine.tools.population_source import read_population

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "screenshots" / "impact_keywork.png"
WINDOW = "1100,1900"  # the browser fixture's window (tests/e2e/conftest.py)

CHARTS_JS = """
return Array.from(document.querySelectorAll('figure.chart')).map(f => {
  const svg = f.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {id: f.id, width: box.width, height: box.height,
          marks: svg ? svg.querySelectorAll('path').length : 0};
});
"""


def test_impact_report_draws_every_chart_offline(browser: Any, tmp_path: Path) -> None:
    packs = engine.load(ROOT / "policies")
    kw = packs["keywork_edm"]
    people = read_population(ROOT / "examples" / "population" / "keywork_2020.jsonl")[:25]
    side = Side(kw, "1", "version 1")
    report = impact(
        side,
        side,
        people,
        dt.date(2020, 6, 1),
        dt.date(2020, 12, 31),
        subject=lambda f: str(f["prisoner"]["prison_number"]),
    )
    page = tmp_path / "impact.html"
    page.write_text(render_html(report), encoding="utf-8")
    browser.get(page.as_uri())
    charts = browser.execute_script(CHARTS_JS)
    assert [c["id"] for c in charts] == ["chart-counts", "chart-daily", "chart-change-dates"]
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 120, chart
        assert chart["marks"] > 20, chart  # bars, lines and text outlines were drawn
    # nothing fetched beyond the page itself: no fonts, scripts or images from anywhere
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert "http://" not in page.read_text().replace("http://www.w3.org/", "")
    shot = tmp_path / "impact.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # keep the committed one unless asked
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
