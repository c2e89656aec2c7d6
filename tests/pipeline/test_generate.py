"""The generation loop end to end: real openai client, scripted HTTP endpoint, real sandbox.

One run plays every scenario (clean accept, repairs of either side, a timeout, a problem never
fixed, fenced JSON, a 429, a 500, a truncated reply); the tests then read what landed on disk
through ``datasets.load_from_disk``, the way a user would.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
from datasets import load_from_disk

from factory.dataset.stats import stats_for_dir
from factory.llm.scripted_server import ScriptedLLMServer
from factory.pipeline.config import GenerateConfig
from factory.pipeline.generate import generate
from factory.prompts import load_prompts
from factory.records import ProblemRecord, Rejection, Split
from problems import load_taxonomy
from sandbox import Limits, PoolConfig, Status
from tests.support.scripted_model import (
    MAIN_SCENARIOS,
    SCENARIOS,
    VOWELS,
    VOWELS_TESTS,
    ScriptedModel,
)
from tests.support.scripted_runs import MODEL, llm_config

pytestmark = pytest.mark.docker
MAX_REPAIRS = 2


@pytest.fixture(scope="module")
def run(runner_image, tmp_path_factory):
    model = ScriptedModel(MAIN_SCENARIOS)
    out = tmp_path_factory.mktemp("generate") / "dataset"
    pool = PoolConfig(workers=2, image=runner_image, limits=Limits(timeout_s=3))
    config = GenerateConfig(
        out=out, count=len(MAIN_SCENARIOS), max_repairs=MAX_REPAIRS, sandbox=pool
    )
    with ScriptedLLMServer(model, models=[MODEL]) as server:
        report = asyncio.run(generate(config, llm_config(server.base_url)))
        requests = server.requests
    dataset = load_from_disk(str(out))
    rows = {}
    for split in dataset:
        for row in dataset[split]:
            record = ProblemRecord.model_validate(row)
            rows[record.title.split("]")[0].lstrip("[")] = record
    return SimpleNamespace(
        out=out,
        model=model,
        report=report,
        requests=requests,
        dataset=dataset,
        rows=rows,
        base_url=server.base_url,
    )


def requests_for(run, stage: str, scenario: str) -> list[dict]:
    title = run.rows[scenario].title
    return [
        request
        for request in run.requests
        if request["response_format"]["json_schema"]["name"] == stage
        and any(title in message["content"] for message in request["messages"])
    ]


def test_the_dataset_has_both_splits_and_every_problem_once(run):
    assert {"train", "failures"} <= set(run.dataset)
    assert sum(split.num_rows for split in run.dataset.values()) == len(MAIN_SCENARIOS)
    assert set(run.rows) == set(MAIN_SCENARIOS)
    ids = [record.id for record in run.rows.values()]
    assert len(set(ids)) == len(ids)
    assert run.report.splits["train"] == len(MAIN_SCENARIOS) - 1
    assert run.report.splits["failures"] == 1
    assert run.model.violations == []


def test_every_stage_asks_for_its_json_schema(run):
    names = set()
    for request in run.requests:
        response_format = request["response_format"]
        assert response_format["type"] == "json_schema"
        schema = response_format["json_schema"]["schema"]
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(schema["properties"])
        names.add(response_format["json_schema"]["name"])
    assert names == {"problem", "solution", "tests", "repair"}
    problem_schema = next(
        r["response_format"]["json_schema"]["schema"]
        for r in run.requests
        if r["response_format"]["json_schema"]["name"] == "problem"
    )
    assert set(problem_schema["properties"]) == {
        "title",
        "description",
        "entry_point",
        "signature",
        "difficulty",
        "topic",
    }
    assert problem_schema["properties"]["difficulty"]["enum"] == ["easy", "medium", "hard"]


def test_clean_accept_with_full_provenance(run):
    record = run.rows["clean"]
    assert record.split == Split.TRAIN and record.n_repairs == 0 and record.failure_reason == ""
    (attempt,) = record.attempts
    assert attempt.verdict.status == Status.PASSED and attempt.verdict.n_tests == 2
    assert record.solution == SCENARIOS["clean"].solution
    assert record.tests == SCENARIOS["clean"].tests
    provenance = record.provenance
    assert provenance.model == MODEL
    assert provenance.endpoint == run.base_url.removesuffix("/v1")
    assert provenance.prompt_hash == load_prompts().hash
    assert provenance.taxonomy_hash == load_taxonomy().hash
    assert provenance.sandbox.image_id.startswith("sha256:")
    assert provenance.sandbox.timeout_s == 3
    assert provenance.sampling.temperature == 0.8
    assert provenance.started_at <= provenance.finished_at
    assert len(provenance.few_shot) == 2
    assert record.topic in {topic.name for topic in load_taxonomy().topics}
    for stage in ("problem", "solution", "tests"):
        assert getattr(record.usage, stage).calls == 1
        assert getattr(record.usage, stage).prompt_tokens > 0
    assert record.usage.repair.calls == 0


def test_wrong_solution_is_fixed_by_a_repair_of_the_solution(run):
    record = run.rows["wrong_solution"]
    assert record.split == Split.TRAIN and record.n_repairs == 1
    first, second = record.attempts
    assert first.verdict.status == Status.FAILED
    assert "test_below" in first.feedback and "assert" in first.feedback
    assert second.origin == "repair" and second.repair_target == "solution"
    assert second.verdict.passed and second.explanation
    assert record.solution == SCENARIOS["wrong_solution"].repairs[0][1]
    (repair_request,) = requests_for(run, "repair", "wrong_solution")
    shown = "\n".join(m["content"] for m in repair_request["messages"])
    assert SCENARIOS["wrong_solution"].solution.strip() in shown
    assert SCENARIOS["wrong_solution"].tests.strip() in shown
    assert first.feedback.strip() in shown


def test_infinite_loop_times_out_and_is_fixed(run):
    record = run.rows["infinite_loop"]
    assert record.split == Split.TRAIN
    first, second = record.attempts
    assert first.verdict.status == Status.TIMEOUT
    assert "timeout" in first.feedback
    assert second.repair_target == "solution" and second.verdict.passed


def test_wrong_tests_are_fixed_by_a_repair_of_the_tests(run):
    record = run.rows["wrong_tests"]
    assert record.split == Split.TRAIN
    first, second = record.attempts
    assert first.verdict.status == Status.FAILED
    assert second.repair_target == "tests"
    assert record.solution == VOWELS  # the correct solution was kept
    assert record.tests == VOWELS_TESTS


def test_problem_never_fixed_ends_in_failures_with_its_history(run):
    record = run.rows["never_fixed"]
    assert record.split == Split.FAILURES
    assert len(record.attempts) == MAX_REPAIRS + 1 and record.n_repairs == MAX_REPAIRS
    assert [a.origin for a in record.attempts] == ["initial", "repair", "repair"]
    for attempt in record.attempts:
        assert attempt.verdict.status == Status.FAILED
        assert attempt.feedback.startswith("status: failed")
        assert attempt.solution and attempt.tests
    assert "after 2 repairs" in record.failure_reason
    assert run.dataset["failures"][0]["title"] == record.title
    # The second repair request reminds the model of the first one.
    later = requests_for(run, "repair", "never_fixed")[-1]
    assert "Earlier repairs of this problem" in later["messages"][-1]["content"]


def test_json_in_fences_with_prose_is_parsed_without_reasking(run):
    record = run.rows["fenced"]
    assert record.split == Split.TRAIN
    assert record.usage.problem.reasks == 0 and record.usage.solution.reasks == 0


def test_rate_limit_with_retry_after_is_waited_out_and_counted(run):
    record = run.rows["rate_limited"]
    assert record.split == Split.TRAIN
    assert record.usage.solution.retries == 1 and record.usage.solution.calls == 1
    assert len(requests_for(run, "solution", "rate_limited")) == 2
    assert run.report.llm["rate_limited"] >= 1


def test_server_error_is_retried_and_counted(run):
    record = run.rows["server_error"]
    assert record.split == Split.TRAIN
    assert record.usage.tests.retries == 1
    assert len(requests_for(run, "tests", "server_error")) == 2


def test_truncated_json_is_reasked_and_counted(run):
    record = run.rows["truncated"]
    assert record.split == Split.TRAIN
    assert record.usage.solution.calls == 2 and record.usage.solution.reasks == 1
    first, again = requests_for(run, "solution", "truncated")
    assert len(again["messages"]) == len(first["messages"]) + 2
    assert again["messages"][-2]["role"] == "assistant"
    assert "cut off" in again["messages"][-1]["content"]
    assert run.report.this_run["reasks"] == {"solution": 1}


def test_tests_requests_never_see_the_solution(run):
    for scenario in MAIN_SCENARIOS:
        for request in requests_for(run, "tests", scenario):
            shown = "\n".join(m["content"] for m in request["messages"])
            assert SCENARIOS[scenario].solution.strip() not in shown


def test_token_usage_per_record_adds_up_to_what_the_client_counted(run):
    prompt = sum(r.usage.total().prompt_tokens for r in run.rows.values())
    completion = sum(r.usage.total().completion_tokens for r in run.rows.values())
    assert prompt == run.report.llm["prompt_tokens"]
    assert completion == run.report.llm["completion_tokens"]
    calls = sum(r.usage.total().calls for r in run.rows.values())
    assert calls == run.report.llm["completions"]


def test_stats_of_the_run(run):
    stats = stats_for_dir(run.out)
    n = len(MAIN_SCENARIOS)
    assert stats.problems == n
    assert stats.splits["train"] == n - 1 and stats.splits["failures"] == 1
    assert stats.acceptance_rate == pytest.approx((n - 1) / n)
    first_try = sum(1 for r in run.rows.values() if r.split == Split.TRAIN and not r.n_repairs)
    assert stats.first_try_pass_rate == pytest.approx(first_try / n)
    assert stats.repairs_histogram == {"0": first_try, "1": 3}
    assert stats.fixed_by == {"solution": 2, "tests": 1}
    assert stats.repair_targets == {"solution": 4, "tests": 1}
    assert stats.failure_statuses == {"failed": 1}
    assert sum(cell.train + cell.failures for cell in stats.coverage) == n
    assert stats.tokens["total"].calls == run.report.llm["completions"]
    assert stats.tokens["solution"].reasks == 1


def test_stats_command_prints_tables_and_json(run):
    command = [sys.executable, "-m", "factory.cli.main", "stats", str(run.out)]
    table = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert table.returncode == 0, table.stderr
    for heading in ("acceptance rate", "first-try pass rate", "topic x difficulty", "LLM usage"):
        assert heading in table.stdout
    as_json = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=120)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["splits"]["train"] == len(MAIN_SCENARIOS) - 1
    assert data["splits"]["failures"] == 1
    assert data["fixed_by"] == {"solution": 2, "tests": 1}
    # the run's settings come from its stored fingerprint: the fixture's 3 s sandbox limit
    assert "3 s, 512 MiB per run" in table.stdout
    assert data["config"]["sandbox"] == {"timeout_s": 3.0, "memory_mb": 512, "cpu_timeout_s": None}
    assert data["config"]["generation"]["max_repairs"] == MAX_REPAIRS


class MinTests:
    """A gate of our own interface: at least three tests, and a coverage figure reported."""

    name = "min_tests"

    def __init__(self) -> None:
        self.seen = 0

    async def __call__(self, candidate, quality):
        self.seen += 1
        quality.line_coverage = 0.5 + 0.1 * candidate.result.n_tests
        if candidate.result.n_tests >= 3:
            return None
        return Rejection(gate=self.name, reason="too_few_tests", feedback="Write at least 3 tests.")


def test_gates_send_a_passing_candidate_back_to_repair(run_generate, tmp_path):
    model = ScriptedModel(["gated"])
    gate = MinTests()
    with ScriptedLLMServer(model, models=[MODEL]) as server:
        report = run_generate(server.base_url, tmp_path / "out", 1, gates=[gate])
        repair_requests = [
            r for r in server.requests if r["response_format"]["json_schema"]["name"] == "repair"
        ]
    (row,) = load_from_disk(str(tmp_path / "out"))["train"]
    record = ProblemRecord.model_validate(row)
    first, second = record.attempts
    assert first.verdict.passed and first.rejection.gate == "min_tests"
    assert first.feedback == "Write at least 3 tests."
    assert "Write at least 3 tests." in repair_requests[0]["messages"][-1]["content"]
    assert second.repair_target == "tests" and second.rejection is None
    assert record.quality.line_coverage == pytest.approx(0.8)
    assert gate.seen == 2
    assert report.this_run["gate_rejections"] == {"min_tests:too_few_tests": 1}


def test_a_gate_rejection_on_the_last_round_ends_in_rejected(run_generate, tmp_path):
    model = ScriptedModel(["gated"])
    with ScriptedLLMServer(model, models=[MODEL]) as server:
        run_generate(server.base_url, tmp_path / "out", 1, gates=[MinTests()], max_repairs=0)
    (row,) = load_from_disk(str(tmp_path / "out"))["rejected"]
    record = ProblemRecord.model_validate(row)
    assert record.failure_reason.startswith("rejected by gate min_tests: too_few_tests")
    assert stats_for_dir(tmp_path / "out").failure_statuses == {"gate:min_tests": 1}


def test_a_run_without_steering_asks_and_records_what_it_always_did(run):
    """No seed code, persona, focus, judge or lineage: the v1 prompts alone, no new field set."""
    names = {request["response_format"]["json_schema"]["name"] for request in run.requests}
    assert names <= {"problem", "solution", "tests", "repair"}
    for request in run.requests:
        text = "\n".join(message["content"] for message in request["messages"])
        assert "real code snippet" not in text and "audience or application domain" not in text
    for record in run.rows.values():
        provenance = record.provenance
        assert provenance.prompt_hash == load_prompts("v1").hash
        assert (provenance.seed_code, provenance.persona, provenance.focus_examples) == (
            None,
            None,
            None,
        )
        assert record.lineage is None and (record.quality is None or record.quality.judge is None)
    stats = stats_for_dir(run.out)
    assert stats.steering is None
    config = stats.config
    assert (config.seed_code, config.personas, config.focus, config.judge, config.evolve) == (
        None,
    ) * 5
    assert run.report.focus_weights is None and run.report.seed_snippets is None
