"""``codefactory eval humanevalplus`` / ``mbppplus`` and ``eval model --benchmark humanevalplus``
as a user runs them: the summary's two scores, the per-sample fields, one line on bad input."""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest

from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply
from tests.support.eval_cli import bad_input, codefactory, write


def subset(tmp_path, bundled, task_ids):
    raw = (resources.files("factory.evaluate.benchmarks") / "data" / bundled).read_bytes()
    lines = [
        line
        for line in gzip.decompress(raw).decode().splitlines()
        if json.loads(line)["task_id"] in task_ids
    ]
    path = tmp_path / "subset.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path, {json.loads(line)["task_id"]: json.loads(line) for line in lines}


@pytest.mark.parametrize(
    ("command", "records", "message"),
    [
        (
            "humanevalplus",
            [{"task_id": "HumanEval/400", "completion": ""}],
            "unknown task_id 'HumanEval/400' for humanevalplus",
        ),
        ("humanevalplus", [{"task_id": "Mbpp/2", "completion": ""}], "holds mbpp samples"),
        ("mbppplus", [{"task_id": "Mbpp/1", "completion": ""}], "unknown task_id 'Mbpp/1'"),
        (
            "mbppplus",
            [{"task_id": "HumanEval/1", "completion": ""}],
            "holds humaneval samples, not mbppplus ones",
        ),
    ],
)
def test_bad_samples_exit_2_with_one_line(tmp_path, command, records, message):
    samples = write(tmp_path / "s.jsonl", *records)
    bad_input(codefactory(command, "--samples", samples), message)


def test_bad_data_exits_2_with_one_line(tmp_path):
    samples = write(tmp_path / "s.jsonl", {"task_id": "HumanEval/1", "completion": ""})
    bad_input(
        codefactory("humanevalplus", "--samples", samples, "--data", tmp_path / "none.jsonl"),
        "data file not found",
    )
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"task_id": "HumanEval/1"}\n')
    bad_input(
        codefactory("humanevalplus", "--samples", samples, "--data", broken),
        "lacks ['prompt', 'entry_point'",
    )


@pytest.mark.docker
def test_summary_has_both_scores_and_results_say_why(runner_image, tmp_path):
    data, tasks = subset(tmp_path, "HumanEvalPlus.jsonl.gz", {"HumanEval/0", "HumanEval/53"})
    samples = write(
        tmp_path / "samples.jsonl",
        {"task_id": "HumanEval/53", "completion": "    return x + y\n"},
        # right on the base inputs, wrong on a plus input (negative numbers)
        {"task_id": "HumanEval/53", "completion": "    return abs(x) + abs(y)\n"},
        {"task_id": "HumanEval/0", "solution": tasks["HumanEval/0"]["prompt"] + "    return 1\n"},
    )
    cache = tmp_path / "cache"
    args = ["--samples", samples, "--data", data, "--cache-dir", cache, "-w", "2", "--k", "1,2"]
    result = codefactory("humanevalplus", *args)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["benchmark"] == "humanevalplus"
    assert summary["base_pass_at_k"] == {"1": 0.5}  # 53: both pass base; 0: fails
    assert summary["pass_at_k"] == {"1": 0.25}
    rows = [json.loads(line) for line in open(f"{samples}_results.jsonl")]
    by = {(r["task_id"], r["completion_id"]): r for r in rows}
    assert (
        by[("HumanEval/53", 0)]["base_status"] == by[("HumanEval/53", 0)]["plus_status"] == "pass"
    )
    edge = by[("HumanEval/53", 1)]
    assert (edge["base_status"], edge["plus_status"], edge["passed"]) == ("pass", "fail", False)
    assert edge["failure"].startswith("plus input #") and "wrong output" in edge["failure"]
    assert edge["failing_input"].startswith("[") and edge["expected"] != edge["actual"]
    wrong = by[("HumanEval/0", 0)]
    assert wrong["base_status"] == "fail" and wrong["actual"] == "1"
    assert list((cache / "evalplus").glob("humanevalplus-*.json.gz"))  # expected outputs cached

    again = codefactory("humanevalplus", *args)  # warm: the same verdicts from the cache
    assert json.loads(again.stdout)["pass_at_k"] == summary["pass_at_k"]


@pytest.mark.docker
def test_a_failing_reference_stops_the_run_with_one_line_and_caches_nothing(runner_image, tmp_path):
    # Cold, the references run beside the samples; the good task's samples may be judged
    # first, but a reference that fails still ends the run with one line, and nothing
    # half-computed is cached.
    # (with other tasks' references still queued when it fails: they are stopped quietly)
    ids = {"HumanEval/0", "HumanEval/53", *(f"HumanEval/{n}" for n in range(100, 112))}
    data, tasks = subset(tmp_path, "HumanEvalPlus.jsonl.gz", ids)
    tasks["HumanEval/0"]["canonical_solution"] = "    raise ValueError('broken')\n"
    data.write_text("".join(json.dumps(record) + "\n" for record in tasks.values()))
    samples = write(
        tmp_path / "samples.jsonl",
        {"task_id": "HumanEval/53", "completion": "    return x + y\n"},
        {"task_id": "HumanEval/0", "completion": "    return False\n"},
    )
    cache = tmp_path / "cache"
    result = codefactory(
        "humanevalplus", "--samples", samples, "--data", data, "--cache-dir", cache, "-w", "2"
    )
    bad_input(result, "the reference solution failed in the sandbox for 1 task(s)")
    assert "HumanEval/0" in result.stderr
    assert not list(cache.glob("evalplus/*.json.gz"))


@pytest.mark.docker
def test_eval_model_on_humanevalplus(runner_image, tmp_path):
    data, _ = subset(tmp_path, "HumanEvalPlus.jsonl.gz", {"HumanEval/53", "HumanEval/23"})

    def reply(request):
        text = request["messages"][-1]["content"]
        body = "x + y" if "def add(" in text else "len(string)"
        name = "add(x: int, y: int)" if "def add(" in text else "strlen(string: str)"
        return ScriptedReply(content=f"```python\ndef {name}:\n    return {body}\n```")

    with ScriptedLLMServer(reply) as server:
        result = codefactory(
            "model", "--benchmark", "humanevalplus", "--data", data, "--base-url",
            server.base_url, "--model", "m", "--n", "2", "--out", tmp_path / "run",
            "--cache-dir", tmp_path / "cache", "-w", "2", "--k", "1,2",
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["pass_at_k"] == {"1": 1.0, "2": 1.0}
    assert summary["base_pass_at_k"] == {"1": 1.0, "2": 1.0}
    assert summary["n_samples"] == 4 and summary["generation"]["generated"] == 4


@pytest.mark.docker
def test_expected_outputs_in_a_pool_of_their_own(runner_image, tmp_path):
    # The path `--ray` takes (and `load_or_compute`'s callers): the same reference runs on a
    # local pool before any sample, with the same cache, and the same one error for a failure.
    import asyncio

    from factory.errors import InputFileError
    from factory.evaluate.benchmarks import load_benchmark
    from factory.evaluate.benchmarks.evalplus_expected import load_cached
    from factory.evaluate.benchmarks.evalplus_references import load_or_compute
    from sandbox import Limits, PoolConfig

    data, tasks = subset(tmp_path, "HumanEvalPlus.jsonl.gz", {"HumanEval/0", "HumanEval/53"})
    config = PoolConfig(workers=2, image=runner_image, limits=Limits(memory_mb=512))
    bench = load_benchmark("humanevalplus", data=data, cache_dir=tmp_path / "cache")
    expected = asyncio.run(load_or_compute(bench, config))
    assert set(expected.outputs) == {"HumanEval/0", "HumanEval/53"} and expected.compute_s > 0
    outputs, add = expected.outputs["HumanEval/53"], tasks["HumanEval/53"]  # add(x, y)
    for part in ("base", "plus"):
        assert [json.loads(text) for text in outputs[part]] == [
            x + y for x, y in add[f"{part}_input"]
        ]
    assert load_cached(bench, config).outputs == expected.outputs

    tasks["HumanEval/0"]["canonical_solution"] = "    raise ValueError('broken')\n"
    data.write_text("".join(json.dumps(record) + "\n" for record in tasks.values()))
    broken = load_benchmark("humanevalplus", data=data, cache_dir=tmp_path / "cache")
    with pytest.raises(InputFileError, match=r"failed in the sandbox for 1 task\(s\).*HumanEval/0"):
        asyncio.run(load_or_compute(broken, config))
    assert load_cached(broken, config) is None


@pytest.mark.docker
def test_quick_references_share_jobs_and_a_failing_one_is_still_its_own(runner_image, tmp_path):
    # With the bundled data's cost hints the quick tasks' references run several to a job,
    # each in a namespace of its own: the same outputs as jobs of their own. A reference that
    # fails in a shared job runs again alone, and the error names it, as a job of its own does.
    import asyncio

    from factory.errors import InputFileError
    from factory.evaluate.benchmarks import load_benchmark
    from factory.evaluate.benchmarks.evalplus_expected import cost_hints, reference_order
    from factory.evaluate.benchmarks.evalplus_reference_program import (
        read_reference,
        reference_job,
    )
    from factory.evaluate.benchmarks.evalplus_references import load_or_compute, reference_packs
    from sandbox import Limits, PoolConfig, SandboxPool

    bench = load_benchmark("humanevalplus", cache_dir=tmp_path / "cache")
    hints = cost_hints(bench.data_sha256)
    quick = [task_id for task_id in reference_order(bench) if task_id not in hints][:12]
    bench.tasks = {task_id: bench.tasks[task_id] for task_id in quick}
    packs = reference_packs(bench)
    assert max(len(pack) for pack in packs) > 1 and sorted(
        t for pack in packs for t in pack
    ) == sorted(quick)
    config = PoolConfig(workers=2, image=runner_image, limits=Limits(memory_mb=512))
    expected = asyncio.run(load_or_compute(bench, config))

    async def alone():
        async with SandboxPool(config) as pool:
            return await asyncio.gather(*(pool.run(reference_job(bench, t)) for t in quick))

    for task_id, result in zip(quick, asyncio.run(alone()), strict=True):
        single = read_reference(result, task_id)
        for part in ("base", "plus"):
            assert expected.outputs[task_id][part] == single[part], task_id

    broken_id = packs[0][1] if len(packs[0]) > 1 else next(p for p in packs if len(p) > 1)[1]
    broken = load_benchmark("humanevalplus", cache_dir=tmp_path / "broken-cache")
    broken.tasks = {task_id: bench.tasks[task_id] for task_id in quick}
    broken.tasks[broken_id] = broken.tasks[broken_id].model_copy(
        update={"canonical_solution": "def nothing():\n    pass\n"}
    )
    with pytest.raises(InputFileError, match=rf"for 1 task\(s\).*{broken_id}"):
        asyncio.run(load_or_compute(broken, config))
