"""The gates inside the generation loop: a real local LLM server (scripted), the real openai
client, the real sandbox, and the dataset read back from disk."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from datasets import load_from_disk

from factory.llm import LLMConfig
from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply
from factory.pipeline.config import GenerateConfig
from factory.pipeline.generate import generate
from factory.quality import QualityConfig
from factory.records import ProblemRecord
from sandbox import Limits, PoolConfig
from tests.quality.test_sandbox_quality import SIGNATURE, SOLUTION, STRONG_TESTS, WEAK_TESTS

pytestmark = pytest.mark.docker

MODEL = "scripted-coder"
PROBLEM = {
    "title": "Capped sum of a list",
    "description": "Return the sum of the integers in xs, where every item larger than k "
    "counts as k. An empty list sums to 0.",
    "entry_point": "clamp_sum",
    "signature": SIGNATURE,
    "difficulty": "easy",
    "topic": "math",
}
# Kills about half of the mutants: it never checks the cap.
MIDDLING_TESTS = """from solution import clamp_sum


def test_empty():
    assert clamp_sum([], 3) == 0


def test_small():
    assert clamp_sum([1, 2], 5) == 3


def test_single():
    assert clamp_sum([4], 9) == 4
"""


class ScriptedCoder:
    """Answers each stage from a script; repairs come from a queue (the last one repeats)."""

    def __init__(self, solution: str, tests: str, repairs: list[tuple[str, str]]):
        self.solution = solution
        self.tests = tests
        self.repairs = list(repairs)
        self.repair_requests: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: dict) -> ScriptedReply:
        stage = request["response_format"]["json_schema"]["name"]
        with self._lock:
            if stage == "problem":
                return _json(PROBLEM)
            if stage == "solution":
                return _json({"code": self.solution})
            if stage == "tests":
                return _json({"code": self.tests})
            if stage == "repair":
                self.repair_requests.append(request["messages"][-1]["content"])
                target, code = self.repairs.pop(0) if len(self.repairs) > 1 else self.repairs[0]
                return _json({"target": target, "code": code, "explanation": f"new {target}"})
        return ScriptedReply(status=400)


def _json(body: dict) -> ScriptedReply:
    return ScriptedReply(content=json.dumps(body))


@pytest.fixture
def run(runner_image, tmp_path):
    pools = PoolConfig(workers=2, image=runner_image, limits=Limits(timeout_s=5))

    def run_once(coder: ScriptedCoder, quality: QualityConfig | None, max_repairs: int = 2):
        out = tmp_path / "out"
        with ScriptedLLMServer(coder, models=[MODEL]) as server:
            llm = LLMConfig(base_url=server.base_url, model=MODEL, concurrency=2, max_retries=2)
            config = GenerateConfig(out=out, count=1, max_repairs=max_repairs)
            report = asyncio.run(generate(config, llm, pools, quality=quality))
        dataset = load_from_disk(str(out))
        rows = {
            split: [ProblemRecord.model_validate(row) for row in dataset[split]]
            for split in dataset
        }
        return report, rows

    return run_once


def test_weak_tests_caught_by_the_mutation_gate_and_strengthened_by_a_repair(run):
    # The first repair tries to change the solution: the gate asked for tests, so it is re-asked.
    coder = ScriptedCoder(SOLUTION, WEAK_TESTS, [("solution", SOLUTION), ("tests", STRONG_TESTS)])
    report, rows = run(coder, QualityConfig(fail_fast=False))
    [record] = rows["train"]
    assert rows["rejected"] == [] and rows["failures"] == []
    first, second = record.attempts
    assert first.verdict.passed
    assert first.gate_rejection.gate == "test_strength"
    assert "mutation_score" in first.gate_rejection.reason
    assert "altered versions of the solution fail the tests" in first.feedback
    assert second.origin == "repair" and second.repair_target == "tests"
    assert second.tests == STRONG_TESTS and second.gate_rejection is None
    # The repair request showed the surviving mutants; the re-ask insisted on the tests.
    assert "altered versions of the solution fail the tests" in coder.repair_requests[0]
    assert "+ " in coder.repair_requests[0] and "- " in coder.repair_requests[0]
    assert "this repair must rewrite the tests" in coder.repair_requests[1]
    strength = record.quality.strength
    assert strength.passed and strength.mutation.score >= 0.7
    assert record.quality.mutation_score == strength.mutation.score
    assert record.quality.line_coverage == 1.0
    assert strength.static.solution.functions[0].name == "clamp_sum"
    assert report.this_run["gate_rejections"] == {
        "test_strength:trivial_solutions+coverage+mutation_score": 1
    }


def test_weak_tests_that_stay_weak_end_in_rejected(run):
    coder = ScriptedCoder(SOLUTION, WEAK_TESTS, [("tests", WEAK_TESTS.replace("[1]", "[2]"))])
    report, rows = run(coder, QualityConfig(), max_repairs=1)
    [record] = rows["rejected"]
    assert rows["train"] == [] and rows["failures"] == []
    assert report.splits["rejected"] == 1
    assert record.failure_reason.startswith("rejected by gate test_strength: trivial_solutions")
    assert record.failure_reason.endswith("after 1 repairs")
    assert [a.gate_rejection.gate for a in record.attempts] == ["test_strength"] * 2
    assert record.attempts[1].repair_target == "tests"
    strength = record.quality.strength
    assert not strength.passed and strength.target == "tests"
    assert strength.feedback == record.attempts[-1].feedback


def test_static_precheck_spends_no_sandbox_run_on_a_syntax_error(run):
    broken = SOLUTION.replace("for x in xs:", "for x in xs")
    coder = ScriptedCoder(broken, STRONG_TESTS, [("tests", STRONG_TESTS), ("solution", SOLUTION)])
    report, rows = run(coder, QualityConfig())
    [record] = rows["train"]
    first, second = record.attempts
    assert first.verdict.status == "syntax_error" and first.verdict.sandbox_attempts == 0
    assert "before any sandbox run" in first.verdict.error
    assert "syntax error in the solution, line 4" in first.feedback
    assert second.repair_target == "solution"  # the tests-side draft was re-asked
    assert "this repair must rewrite the solution" in coder.repair_requests[1]
    # only the accepted attempt was judged: its plain run, then the gates' runs
    gate_runs = record.quality.strength.sandbox_runs
    assert gate_runs > 1 and report.this_run["sandbox_runs"] == 1 + gate_runs


def test_without_gates_weak_tests_are_accepted(run):
    coder = ScriptedCoder(SOLUTION, WEAK_TESTS, [("tests", STRONG_TESTS)])
    _, rows = run(coder, QualityConfig(enabled=False))
    [record] = rows["train"]
    assert len(record.attempts) == 1 and record.quality is None


def _codefactory(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "factory.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_gates_configurable_from_the_cli(runner_image, tmp_path):
    coder = ScriptedCoder(SOLUTION, MIDDLING_TESTS, [("tests", MIDDLING_TESTS)])
    common = [
        "generate", "--model", MODEL, "--count", "1", "--max-repairs", "0", "--workers", "2",
        "--image", runner_image, "--no-decontaminate", "--quiet",
    ]  # fmt: skip
    outcomes = {}
    with ScriptedLLMServer(coder, models=[MODEL]) as server:
        for name, flags in {
            "defaults": [],
            "lower_coverage": ["--min-coverage", "0.5"],
            "higher_mutation": ["--min-coverage", "0.5", "--min-mutation-score", "0.8"],
            "strict_counts": ["--min-mutation-score", "0", "--min-tests", "4"],
            "no_gates": ["--no-gates"],
        }.items():
            out = tmp_path / name
            done = _codefactory(*common, "--base-url", server.base_url, "--out", str(out), *flags)
            assert done.returncode == 0, done.stderr
            outcomes[name] = json.loads(done.stdout)["splits"], _only_row(out)
    splits, row = outcomes["defaults"]
    assert splits["rejected"] == 1 and splits["train"] == 0
    assert "coverage" in row.quality.strength.failed_gates
    assert row.quality.strength.config.min_mutation_score == 0.7
    splits, row = outcomes["lower_coverage"]
    assert splits["train"] == 1
    assert row.quality.strength.config.min_coverage == 0.5
    assert row.quality.line_coverage == pytest.approx(6 / 7, abs=1e-3)
    assert 0.7 <= row.quality.mutation_score < 0.8  # the cap is never tested
    splits, row = outcomes["higher_mutation"]
    assert splits["rejected"] == 1
    assert row.quality.strength.failed_gates == ["mutation_score"]
    assert row.failure_reason.startswith("rejected by gate test_strength: mutation_score")
    splits, row = outcomes["strict_counts"]
    assert splits["rejected"] == 1
    assert row.quality.strength.failed_gates == ["min_tests"]
    splits, row = outcomes["no_gates"]
    assert splits["train"] == 1 and row.quality is None


def _only_row(out: Path) -> ProblemRecord:
    dataset = load_from_disk(str(out))
    [row] = [row for split in dataset.values() for row in split]
    return ProblemRecord.model_validate(row)


def test_bad_gate_flag_is_one_line_before_anything_starts(tmp_path):
    done = _codefactory(
        "generate", "--model", MODEL, "--count", "1", "--out", str(tmp_path / "o"),
        "--base-url", "http://127.0.0.1:9/v1", "--min-mutation-score", "1.5",
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: invalid --min-mutation-score (got 1.5): Input should be less than or equal to 1"
    )
    assert not (tmp_path / "o").exists()
