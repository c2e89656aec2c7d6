"""Dedup and decontamination inside the real generation loop: scripted model, real sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.dataset.stats import stats_for_dir
from tests.support.hygiene_model import SCENARIOS
from tests.support.scripted_runs import hygiene_run

FIRST_RUN = ["close", "rle", "rle-again", "intervals"]


@pytest.fixture(scope="module")
def first_run(runner_image, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("hygiene") / "out"
    return out, hygiene_run(out, FIRST_RUN, len(FIRST_RUN), runner_image)


def test_a_humaneval_copy_is_dropped_with_the_task_named(first_run):
    _, result = first_run
    (copy,) = [r for r in result["rows"]["dropped"] if r.entry_point == "has_close_elements"]
    assert copy.quality.contamination_match == "humaneval:HumanEval/0"
    assert copy.failure_reason.startswith("benchmark_")
    assert copy.attempts[-1].verdict.passed  # it was verified, then removed
    assert all(r.entry_point != "has_close_elements" for r in result["rows"]["train"])


def test_the_same_problem_twice_is_kept_once(first_run):
    _, result = first_run
    kept = [r for r in result["rows"]["train"] if r.entry_point == "run_length_encode"]
    dropped = [r for r in result["rows"]["dropped"] if r.entry_point == "run_length_encode"]
    assert len(kept) == 1 and len(dropped) == 1
    assert dropped[0].quality.near_duplicate_of == kept[0].id
    assert {kept[0].title, dropped[0].title} == {
        SCENARIOS["rle"].title,
        SCENARIOS["rle-again"].title,
    }


def test_counts_and_stats_report_the_dropped_rows(first_run):
    out, result = first_run
    report = result["report"]
    assert report.splits == {"train": 2, "failures": 0, "dropped": 2, "rejected": 0}
    assert report.this_run["dropped"] == 2 and report.this_run["accepted"] == 2
    stats = stats_for_dir(out)
    # the copy's solution is HumanEval/0's up to names: the first check to fire
    assert stats.dropped == {"exact_duplicate": 1, "benchmark_normalised_code": 1}


def test_a_resumed_run_still_knows_what_it_kept(first_run, runner_image):
    out, _ = first_run
    resumed = hygiene_run(out, ["rle-third"], len(FIRST_RUN) + 1, runner_image)
    (third,) = [r for r in resumed["rows"]["dropped"] if r.title == SCENARIOS["rle-third"].title]
    (kept,) = [r for r in resumed["rows"]["train"] if r.entry_point == "run_length_encode"]
    assert third.quality.near_duplicate_of == kept.id
    assert resumed["report"].splits["train"] == 2
