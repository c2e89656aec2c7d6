"""Rows written by the previous schema (version 1) still load, in the current layout.

``data/rows_v1.jsonl`` and ``data/store_v1.sqlite`` were written by codefactory before schema 2
(a scripted run: repairs of either side, a timeout, a problem never fixed, weak tests rejected
by the test-strength gate, a syntax error caught before the sandbox, and hygiene drops).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from factory.dataset.stats import stats_for_dir
from factory.dataset.store import RunStore
from factory.records import (
    SANDBOX_GATE,
    SCHEMA_VERSION,
    STATIC_GATE,
    DropReason,
    ProblemRecord,
    Split,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def rows() -> dict[str, ProblemRecord]:
    texts = (DATA / "rows_v1.jsonl").read_text().splitlines()
    assert {json.loads(text)["schema_version"] for text in texts} == {1}
    records = [ProblemRecord.model_validate_json(text) for text in texts]
    return {f"{record.split}:{record.title}": record for record in records}


def test_v1_rows_load_in_the_current_layout(rows):
    for record in rows.values():
        assert record.schema_version == SCHEMA_VERSION
        again = ProblemRecord.model_validate_json(record.model_dump_json())
        assert again == record


def test_a_sandbox_failure_becomes_a_sandbox_rejection_with_its_feedback(rows):
    record = rows["failures:[never_fixed] #5"]
    assert all(a.rejection.gate == SANDBOX_GATE for a in record.attempts)
    assert {a.rejection.reason for a in record.attempts} == {"failed"}
    assert all(a.feedback.startswith("status: failed") for a in record.attempts)
    timed_out = rows["train:[infinite_loop] #3"].attempts
    assert timed_out[0].rejection.reason == "timeout" and timed_out[-1].rejection is None


def test_a_gate_rejection_keeps_its_gate_reason_and_feedback(rows):
    record = rows["rejected:Capped sum of a list"]
    assert [a.rejection.gate for a in record.attempts] == ["test_strength"] * 2
    assert record.attempts[-1].rejection.after_sandbox
    assert record.attempts[-1].feedback == record.quality.strength.feedback
    # the quality record's checks were called gates in version 1
    assert record.quality.strength.failed_checks[0] == "trivial_solutions"


def test_a_static_failure_becomes_a_static_rejection(rows):
    first = rows["train:Capped sum of a list"].attempts[0]
    assert first.verdict.sandbox_attempts == 0
    assert first.rejection.gate == STATIC_GATE and not first.rejection.after_sandbox
    assert "syntax error in the solution, line 4" in first.feedback


def test_a_v1_store_loads_with_typed_drops(tmp_path):
    out = tmp_path / "out"
    (out / "state").mkdir(parents=True)
    shutil.copy(DATA / "store_v1.sqlite", out / "state" / "store.sqlite")
    with RunStore.open_readonly(out) as store:
        dropped = list(store.iter_records(Split.DROPPED))
        assert len(list(store.iter_records())) == 4
    by_reason = {record.drop.reason: record for record in dropped}
    assert set(by_reason) == {DropReason.EXACT_DUPLICATE, DropReason.BENCHMARK_NORMALISED_CODE}
    copy = by_reason[DropReason.BENCHMARK_NORMALISED_CODE]
    assert copy.drop.stage == "decontamination"
    assert copy.drop.matched == copy.quality.contamination_match == "humaneval:HumanEval/0"
    assert (
        copy.drop.detail == "has_close_elements is the benchmark's solution up to names and layout"
    )
    assert copy.failure_reason == copy.drop.describe()
    duplicate = by_reason[DropReason.EXACT_DUPLICATE]
    assert duplicate.drop.stage == "dedup"
    assert duplicate.drop.matched == duplicate.quality.near_duplicate_of
    assert stats_for_dir(out).dropped == {"exact_duplicate": 1, "benchmark_normalised_code": 1}


def test_a_v1_mbpp_match_takes_the_evaluation_harness_task_id(tmp_path):
    out = tmp_path / "out"
    (out / "state").mkdir(parents=True)
    shutil.copy(DATA / "store_v1.sqlite", out / "state" / "store.sqlite")
    with RunStore.open_readonly(out) as store:
        copy = next(r for r in store.iter_records(Split.DROPPED) if r.quality.contamination_match)
    v1 = json.loads(copy.model_dump_json())
    v1.update(schema_version=1, drop=None, failure_reason="benchmark_code_overlap: mbpp:2 (80%)")
    v1["quality"]["contamination_match"] = "mbpp:2"
    for attempt in v1["attempts"]:  # every attempt of it passed
        assert attempt.pop("rejection") is None
        attempt.update(gate_rejection=None, feedback="")
    record = ProblemRecord.model_validate(v1)
    assert record.drop.matched == record.quality.contamination_match == "mbpp:Mbpp/2"
    assert record.drop.reason is DropReason.BENCHMARK_CODE and record.drop.detail == "80%"
    assert record.failure_reason == "benchmark_code_overlap: mbpp:Mbpp/2 (80%)"


def test_a_run_begun_before_schema_2_goes_on_with_todays_rows(tmp_path):
    out = tmp_path / "out"
    (out / "state").mkdir(parents=True)
    shutil.copy(DATA / "store_v1.sqlite", out / "state" / "store.sqlite")
    with RunStore.open_readonly(out) as store:
        config = store.config()
    assert config.row_schema_version == SCHEMA_VERSION  # its rows read as today's
    with RunStore.open(out, config) as store:  # the same settings: not refused
        assert store.problems_done() == 4
