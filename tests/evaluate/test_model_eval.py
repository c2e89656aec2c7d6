"""``eval model`` end to end: the real openai client against a local scripted endpoint, the
real sandbox, and resuming after a failure without asking again for what was saved."""

from __future__ import annotations

import json
import re

import pytest

from factory.errors import ConfigError, LLMError
from factory.evaluate.benchmarks.humaneval import HumanEval
from factory.evaluate.model_eval import SamplingConfig, run_model_eval
from factory.llm import LLMConfig
from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply
from sandbox.aio import run

pytestmark = pytest.mark.docker

TASKS = ["HumanEval/2", "HumanEval/23", "HumanEval/53", "HumanEval/60"]
REPLIES = {
    # a whole function in a fence: passes
    "truncate_number": "Here you go:\n```python\ndef truncate_number(number: float) -> float:\n"
    "    return number % 1.0\n```\n",
    # only the body, unindented: indented under the prompt's function, passes
    "strlen": "```python\nreturn len(string)\n```",
    # wrong answer
    "add": "```python\ndef add(x: int, y: int):\n    return x - y\n```",
    # raw code without a fence: passes
    "sum_to_n": "def sum_to_n(n: int):\n    return sum(range(n + 1))\n",
}


def task_of(request: dict) -> str:
    text = request["messages"][-1]["content"]
    return next(name for name in REPLIES if re.search(rf"def {name}\(", text))


def good(request: dict) -> ScriptedReply:
    return ScriptedReply(content=REPLIES[task_of(request)])


@pytest.fixture
def subset(humaneval) -> HumanEval:
    return HumanEval([humaneval.tasks[task_id] for task_id in TASKS])


def llm(server, **overrides) -> LLMConfig:
    values = {"concurrency": 4, "max_retries": 3, "backoff_base_s": 0.001, "backoff_max_s": 0.01}
    return LLMConfig(base_url=server.base_url, model="scripted", **(values | overrides))


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_samples_are_saved_evaluated_and_summarised(subset, eval_config, tmp_path):
    out = tmp_path / "run"
    with ScriptedLLMServer(good) as server:
        summary = run(
            run_model_eval(
                subset, None, llm(server), SamplingConfig(n=3, max_tokens=300), eval_config, out
            )
        )
    assert len(server.requests) == 12
    assert {r["temperature"] for r in server.requests} == {0.8}
    assert {r["max_tokens"] for r in server.requests} == {300}
    assert summary.n_tasks == 4 and summary.n_samples == 12
    assert summary.pass_at_k == {"1": 0.75, "2": 0.75}
    assert "10" in summary.k_omitted
    assert summary.generation.generated == 12 and summary.generation.reused == 0

    samples = lines(out / "samples.jsonl")
    assert sorted((s["task_id"], s["completion_id"]) for s in samples) == sorted(
        (t, i) for t in TASKS for i in range(3)
    )
    strlen = next(s for s in samples if s["task_id"] == "HumanEval/23")
    assert strlen["completion"] == "    return len(string)\n"
    assert strlen["raw"] == REPLIES["strlen"] and strlen["finish_reason"] == "stop"
    results = lines(out / "results.jsonl")
    assert {(r["task_id"], r["passed"]) for r in results} == {
        ("HumanEval/2", True),
        ("HumanEval/23", True),
        ("HumanEval/53", False),
        ("HumanEval/60", True),
    }
    assert json.loads((out / "summary.json").read_text()) == summary.model_dump(mode="json")
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["model"] == "scripted" and manifest["benchmark"] == "humaneval"


def test_a_failed_run_resumes_asking_only_for_missing_samples(subset, eval_config, tmp_path):
    out = tmp_path / "run"
    served = []

    def fails_after_five(request):
        if len(served) >= 5:
            return ScriptedReply(status=500)
        served.append(request)
        return good(request)

    with (
        ScriptedLLMServer(fails_after_five) as server,
        pytest.raises(LLMError, match="kept answering HTTP 500"),
    ):
        run(
            run_model_eval(
                subset,
                None,
                llm(server, concurrency=1, max_retries=1),
                SamplingConfig(n=3),
                eval_config,
                out,
            )
        )
    saved = (out / "samples.jsonl").read_text()
    assert len(saved.splitlines()) == 5
    assert not (out / "summary.json").exists()
    # a kill during a write leaves half a line: the resume drops it and asks again
    (out / "samples.jsonl").write_text(
        saved + '{"task_id": "HumanEval/60", "completion_id": 1, "compl'
    )

    with ScriptedLLMServer(good) as server:
        summary = run(
            run_model_eval(subset, None, llm(server), SamplingConfig(n=3), eval_config, out)
        )
    assert len(server.requests) == 12 - 5
    assert (out / "samples.jsonl").read_text().startswith(saved)
    assert summary.n_samples == 12 and summary.pass_at_k["1"] == 0.75
    assert summary.generation.reused == 5 and summary.generation.generated == 7

    # raising n asks only for the new samples; the same n asks for nothing
    with ScriptedLLMServer(good) as server:
        summary = run(
            run_model_eval(subset, None, llm(server), SamplingConfig(n=4), eval_config, out)
        )
        assert len(server.requests) == 4 and summary.n_samples == 16
        run(run_model_eval(subset, None, llm(server), SamplingConfig(n=4), eval_config, out))
        assert len(server.requests) == 4


def test_rate_limits_and_server_errors_are_retried(subset, eval_config, tmp_path):
    script = iter(
        [ScriptedReply(status=429, headers={"Retry-After": "0"}), ScriptedReply(status=503)]
    )

    def flaky(request):
        return next(script, None) or good(request)

    with ScriptedLLMServer(flaky) as server:
        summary = run(
            run_model_eval(
                subset, None, llm(server, concurrency=1), SamplingConfig(n=1), eval_config, tmp_path
            )
        )
    assert len(server.requests) == 6
    assert summary.generation.llm_retries == 2 and summary.generation.llm_requests == 6
    assert summary.n_samples == 4 and summary.pass_at_k["1"] == 0.75


def test_other_settings_do_not_mix_into_a_samples_directory(subset, eval_config, tmp_path):
    with ScriptedLLMServer(good) as server:
        run(run_model_eval(subset, None, llm(server), SamplingConfig(n=1), eval_config, tmp_path))
        with pytest.raises(
            ConfigError, match=r"\(temperature: 0.8 -> 0.2\): rerun with the same settings"
        ):
            run(
                run_model_eval(
                    subset,
                    None,
                    llm(server),
                    SamplingConfig(n=1, temperature=0.2),
                    eval_config,
                    tmp_path,
                )
            )
