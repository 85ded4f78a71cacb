"""`geowire report`: the self-contained HTML page of a run, checked as text and rendered in headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.report import report_path
from tests.conftest import REPO

DATE = "2026-01-07"
# Kept after the run (git-ignored) so a person or CI can look at the rendered page.
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def report(warehouse: Path, date: str):
    return CliRunner().invoke(app, ["report", "--warehouse", str(warehouse), "--date", date])


def test_every_run_writes_its_report_and_the_command_rewrites_the_same_bytes(two_nights):
    written_by_run = report_path(two_nights, DATE).read_bytes()
    assert report_path(two_nights, "2026-01-06").exists()
    result = report(two_nights, DATE)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(report_path(two_nights, DATE))
    assert report_path(two_nights, DATE).read_bytes() == written_by_run


def test_report_is_self_contained_and_escaped(two_nights):
    html = report_path(two_nights, DATE).read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "Eastern Post &lt;Weekly&gt; &amp; &#34;Co&#34;" in html and "<Weekly>" not in html


def test_report_of_a_date_never_run_is_a_clear_error(two_nights):
    result = report(two_nights, "2026-02-01")
    assert result.exit_code == 1 and "no run for 2026-02-01" in result.stderr
    assert report(two_nights, "yesterday").exit_code == 1


def test_report_renders_in_chromium(two_nights):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: install Debian's chromium (make test does: make browser)")
    from playwright.sync_api import sync_playwright

    page_url = report_path(two_nights, DATE).resolve().as_uri()
    console_errors, page_errors, foreign_requests = [], [], []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"report-{DATE}.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: console_errors.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith("file://") else foreign_requests.append(r.url))
            page.goto(page_url, wait_until="load")
            charts = page.locator("svg.chart")
            assert charts.count() == 4
            for i in range(4):
                drawn = charts.nth(i).locator("rect, path:not(marker path), circle").count()
                assert drawn > 0, charts.nth(i).get_attribute("aria-label")
                assert charts.nth(i).bounding_box()["width"] > 100
            assert page.locator("svg.chart").nth(3).locator("circle").count() == 4  # RUS, DEU, JPN -> UKR
            body_rows = {
                table: page.locator(f"table#{table} tr").count() - 1
                for table in ("rows", "quality", "commitments", "clusters", "sources")
            }
            assert body_rows == {"rows": 5, "quality": 5, "commitments": 2, "clusters": 1, "sources": 2}
            assert page.locator("table#quality td.bad").count() == 0
            commitments = page.locator("table#commitments").inner_text()
            assert "Germany delivered the military aid it had pledged to Ukraine" in commitments
            assert "first announced 2026-01-05" in commitments and "new" in commitments
            assert 'Eastern Post <Weekly> & "Co"' in page.locator("table#sources").inner_text()
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    print(f"report screenshot: {screenshot}")
    assert console_errors == [] and page_errors == [] and foreign_requests == []
    assert screenshot.stat().st_size > 10_000
