"""The HTML report, rendered by a real headless Chromium (Debian's ``chromium`` package).

Outside CI the browser test skips when no Chromium is installed; in CI (CI=true) it must run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from factory.dataset.stats import stats_for_dir
from factory.publish import svg
from factory.publish.facts import collect_facts
from factory.publish.report import render_report
from tests.support.cli import codefactory

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PLOTS = ("funnel", "failures", "repairs", "coverage", "mutation", "topics")


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if IN_CI:
        pytest.fail("CI needs Chromium for the report test: apt-get install -y chromium")
    pytest.skip("no Chromium installed outside CI (apt-get install -y chromium)")


def browse(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=900,2400",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def report_page(generated, tmp_path_factory) -> Path:
    page = tmp_path_factory.mktemp("report") / "report.html"
    done = codefactory("report", generated, "--out", page, timeout=120)
    assert done.returncode == 0, done.stderr
    return page


def test_the_page_is_self_contained(report_page):
    html = report_page.read_text()
    assert not re.search(r"""(src|href)=['"]?(https?:|//)""", html)
    assert "<script" not in html


def test_chromium_renders_every_plot(report_page, tmp_path):
    dom = browse(report_page, tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    for plot in PLOTS:
        assert f'id="plot-{plot}"' in page, plot
    funnel = page.split('id="plot-funnel"')[1].split("</figure>")[0]
    values = [
        int(v) for v in re.findall(r'class="bar" data-label="[^"]+" data-value="(\d+)"', funnel)
    ]
    assert values == [5, 5, 3, 4, 4, 3, 2]  # planned .. after decontamination
    topics = page.split('id="plot-topics"')[1].split("</figure>")[0]
    cells = [int(v) for v in re.findall(r'class="cell"[^>]*data-value="(\d+)"', topics)]
    assert sum(cells) == 2  # the two accepted rows
    assert "not measured" in page.split('id="plot-coverage"')[1].split("</figure>")[0]
    assert "humaneval:HumanEval/0" in page


def test_chromium_screenshot(report_page, tmp_path):
    shot = tmp_path / "report.png"
    done = browse(report_page, tmp_path, f"--screenshot={shot}")
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (900, 2400)
    assert len(data) > 20_000  # a blank page compresses to a few kilobytes


def test_measured_quality_is_drawn_as_histograms(generated):
    facts = collect_facts(generated).model_copy(
        update={"line_coverage": [1.0, 0.95, 0.9, 0.5], "mutation_score": [0.8, 0.7]}
    )
    html = render_report(facts)
    coverage = html.split("id='plot-coverage'")[1].split("</figure>")[0]
    bins = [int(v) for v in re.findall(r"class='bin' data-value='(\d+)'", coverage)]
    assert sum(bins) == 4 and bins[-1] == 3 and bins[5] == 1  # [0.9, 1.0] and [0.5, 0.6)
    assert "not measured" not in coverage


def test_histogram_puts_the_top_edge_in_the_last_bin():
    drawn = svg.histogram([0.0, 0.05, 1.0], bins=10)
    counts = [int(v) for v in re.findall(r"class='bin' data-value='(\d+)'", drawn)]
    assert counts[0] == 2 and counts[-1] == 1 and sum(counts) == 3


def test_headline_numbers_are_the_stats_figures(generated):
    stats = stats_for_dir(generated)  # what `codefactory stats` prints
    html = render_report(collect_facts(generated))
    numbers = dict(
        (label, value)
        for value, label in re.findall(r"<div class='number'><b>([^<]*)</b>([^<]*)</div>", html)
    )
    assert numbers["first-try pass"] == f"{stats.first_try_pass_rate:.0%}" == "20%"
    assert numbers["acceptance"] == f"{stats.acceptance_rate:.0%}"
    assert numbers["tokens / accepted row"] == f"{stats.tokens_per_accepted:,.0f}"
