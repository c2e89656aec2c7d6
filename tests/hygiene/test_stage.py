"""The screen the generation loop applies to accepted rows: kept, or moved to ``dropped``."""

from __future__ import annotations

import json

from factory.hygiene.stage import HygieneConfig, HygieneScreen
from factory.records import DropReason, Split
from tests.support.hygiene_rows import HAS_CLOSE_ELEMENTS, MERGE_INTERVALS, RUN_LENGTH, variant
from tests.support.records import record_from_row


def test_kept_rows_pass_unchanged_and_later_copies_are_dropped():
    screen = HygieneScreen.load(HygieneConfig())
    first = record_from_row(RUN_LENGTH, slot=0)
    assert screen(first) is first
    copy = screen(record_from_row(variant(RUN_LENGTH, id="cf-again", title="RLE again"), slot=1))
    assert copy.split == Split.DROPPED
    assert copy.quality.near_duplicate_of == RUN_LENGTH["id"]
    assert copy.drop.reason is DropReason.EXACT_DUPLICATE
    assert copy.drop.matched == RUN_LENGTH["id"] and copy.drop.stage == "dedup"
    assert copy.failure_reason.startswith("exact_duplicate: cf-rle (")


def test_a_benchmark_copy_is_dropped_with_the_task_named():
    screen = HygieneScreen.load(HygieneConfig())
    row = screen(record_from_row(HAS_CLOSE_ELEMENTS))
    assert row.split == Split.DROPPED
    assert row.quality.contamination_match == "humaneval:HumanEval/0"
    assert row.drop.stage == "decontamination"
    assert row.drop.matched == "humaneval:HumanEval/0"
    # a dropped row does not enter the dedup index
    assert len(screen.dedup) == 0


def test_failures_are_not_screened():
    screen = HygieneScreen.load(HygieneConfig())
    failure = record_from_row(HAS_CLOSE_ELEMENTS, split=Split.FAILURES)
    assert screen(failure) is failure


def test_a_resumed_screen_knows_the_rows_kept_before():
    screen = HygieneScreen.load(HygieneConfig()).resume(
        [record_from_row(RUN_LENGTH), record_from_row(MERGE_INTERVALS, slot=1)]
    )
    again = screen(record_from_row(variant(MERGE_INTERVALS, id="cf-other"), slot=2))
    assert again.quality.near_duplicate_of == MERGE_INTERVALS["id"]


def test_the_fingerprint_names_benchmark_files_by_content(tmp_path):
    bench = tmp_path / "b.jsonl"
    bench.write_text(json.dumps({"task_id": 1, "description": "x", "solution": "y"}) + "\n")
    config = HygieneConfig.model_validate({"decontamination": {"benchmark_files": [bench]}})
    first = config.fingerprint()
    moved = tmp_path / "sub"
    moved.mkdir()
    bench.rename(moved / "b.jsonl")
    same = HygieneConfig.model_validate(
        {"decontamination": {"benchmark_files": [moved / "b.jsonl"]}}
    ).fingerprint()
    assert first == same
    (moved / "b.jsonl").write_text(json.dumps({"task_id": 2, "description": "z"}) + "\n")
    changed = HygieneConfig.model_validate(
        {"decontamination": {"benchmark_files": [moved / "b.jsonl"]}}
    ).fingerprint()
    assert changed != first
    assert HygieneConfig.model_validate({"dedup": {"enabled": False}}).fingerprint().dedup is None
