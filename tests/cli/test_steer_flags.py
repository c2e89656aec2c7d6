"""Bad input to the steering flags of ``generate`` and to ``evolve``: one clear line, exit 2,
no completion asked for, nothing lost. Each case runs the real command in a subprocess."""

from __future__ import annotations

import json
import socket

import pytest
from datasets import load_from_disk

from factory.dataset.store import RunStore
from factory.grounding.code_seeds import load_seed_pool
from factory.llm.scripted_server import ScriptedLLMServer
from tests.support.cli import assert_one_line_error, codefactory
from tests.support.records import FINGERPRINT, record
from tests.support.scripted_runs import MODEL
from tests.support.seed_code import write_seed_dir
from tests.support.steering_model import SteeringModel


def dead_url() -> str:
    with socket.socket() as sock:  # a port where nothing listens: no request can succeed
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def generate(tmp_path, *flags):
    out = tmp_path / "o"
    done = codefactory(
        "generate", "--base-url", dead_url(), "--model", MODEL, "--count", "2",
        "--out", out, *flags,
    )  # fmt: skip
    return done, out


def made_dataset(tmp_path):
    out = tmp_path / "made"
    with RunStore.open(out, FINGERPRINT) as store:
        store.commit(record(0))
    return out


def seed_source(tmp_path, kind: str):
    """A --seed-code source that gives no snippet: missing, without .py files, or trivial."""
    path = tmp_path / kind
    if kind != "missing":
        path.mkdir()
    if kind == "trivial":
        (path / "a.py").write_text("x = 1\n")
    return path


@pytest.mark.parametrize(
    ("kind", "fragments"),
    [
        ("missing", ("--seed-code", "missing", "not found")),
        ("empty", ("holds no .py file",)),
        ("trivial", ("gave no usable snippet", "1 trivial")),
    ],
)
def test_seed_code_that_gives_no_snippet(tmp_path, kind, fragments):
    done, out = generate(tmp_path, "--seed-code", seed_source(tmp_path, kind))
    assert_one_line_error(done, *fragments)
    assert not out.exists()


def test_fewer_snippets_than_problems_without_reuse(tmp_path):
    seeds = write_seed_dir(tmp_path / "src")
    done, out = generate(tmp_path, "--seed-code", seeds, "--count", "9")
    assert_one_line_error(done, "gave 4 usable snippets for --count 9", "--seed-reuse")
    assert not out.exists()


def test_bad_values_name_their_flag(tmp_path):
    done, _ = generate(tmp_path, "--seed-style", "poem")
    assert_one_line_error(done, "--seed-style")
    done, _ = generate(tmp_path, "--min-judge-score", "9")
    assert_one_line_error(done, "--min-judge-score")
    done, _ = generate(tmp_path, "--personas", tmp_path / "missing.txt")
    assert_one_line_error(done, "--personas", "not found")
    done, _ = generate(tmp_path, "--judge-base-url", "http://127.0.0.1:1/v1")
    assert_one_line_error(done, "--judge-base-url needs --judge-model")


def test_results_of_another_dataset_are_refused_and_the_dataset_kept(tmp_path):
    made = made_dataset(tmp_path)
    results = tmp_path / "humaneval_results.jsonl"
    line = {"task_id": "HumanEval/0", "completion_id": 0, "passed": False, "status": "failed"}
    results.write_text(json.dumps(line) + "\n")
    before = (made / "state" / "store.sqlite").read_bytes()
    done = codefactory(
        "generate", "--base-url", dead_url(), "--model", MODEL, "--count", "2",
        "--out", made, "--focus", results,
    )  # fmt: skip
    assert_one_line_error(done, "results of another dataset", "HumanEval/0")
    assert (made / "state" / "store.sqlite").read_bytes() == before


def test_evolve_refuses_a_missing_or_empty_dataset_and_unknown_operators(tmp_path):
    args = ("--model", MODEL, "--base-url", dead_url())
    done = codefactory("evolve", tmp_path / "nowhere", "--out", tmp_path / "b", *args)
    assert_one_line_error(done, "nowhere", "not found")
    empty = tmp_path / "empty"
    with RunStore.open(empty, FINGERPRINT):
        pass
    done = codefactory("evolve", empty, "--out", tmp_path / "b", *args)
    assert_one_line_error(done, "no accepted (train) rows")
    made = made_dataset(tmp_path)
    done = codefactory("evolve", made, "--out", tmp_path / "b", "--operators", "shout", *args)
    assert_one_line_error(done, "--operators", "unknown operator 'shout'")
    done = codefactory("evolve", made, "--out", tmp_path / "b", "--cpu-timeout", "0", *args)
    assert_one_line_error(done, "--cpu-timeout")
    assert not (tmp_path / "b").exists()


@pytest.mark.docker
def test_the_flags_reach_the_run(tmp_path, runner_image):
    """Every steering flag of the command, through to the row, the report and `stats`."""
    seeds = write_seed_dir(tmp_path / "src")
    (tmp_path / "personas.txt").write_text("a game studio\n")
    out = tmp_path / "o"
    with ScriptedLLMServer(SteeringModel(), models=[MODEL, "judge"]) as server:
        done = codefactory(
            "generate", "--base-url", server.base_url, "--model", MODEL, "--count", "1",
            "--out", out, "--image", runner_image, "--workers", "1", "--no-gates",
            "--seed-code", seeds, "--seed-style", "concepts", "--personas",
            tmp_path / "personas.txt", "--judge-model", "judge", "--judge-base-url",
            server.base_url, "--min-judge-score", "3", "--quiet",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["seed_snippets"] == 4
    (row,) = load_from_disk(str(out))["train"]
    assert row["provenance"]["persona"] == "a game studio"
    assert row["provenance"]["seed_code"]["style"] == "concepts"
    assert row["provenance"]["seed_code"]["concepts"] == "string splitting, dictionaries"
    assert row["quality"]["judge"]["score"] == 5
    shown = codefactory("stats", out).stdout
    assert "steering" in shown and "judge" in shown and "personas" in shown

    results = tmp_path / "results.jsonl"
    line = {"task_id": row["id"], "completion_id": 0, "passed": False, "status": "failed"}
    results.write_text(json.dumps(line) + "\n")
    cell = f"{row['topic']}/{row['difficulty']}"
    with ScriptedLLMServer(SteeringModel(), models=[MODEL]) as server:
        done = codefactory(
            "generate", "--base-url", server.base_url, "--model", MODEL, "--count", "1",
            "--out", tmp_path / "focused", "--image", runner_image, "--workers", "1",
            "--no-gates", "--focus", results, "--focus-dataset", out, "--quiet",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["focus_weights"] == {cell: 4}
    assert f"focus weights: {cell} x4" in done.stderr

    evolved = tmp_path / "evolved"
    with ScriptedLLMServer(SteeringModel(evolve_kinds=["harder"]), models=[MODEL]) as server:
        done = codefactory(
            "evolve", out, "--out", evolved, "--base-url", server.base_url, "--model", MODEL,
            "--image", runner_image, "--workers", "1", "--no-gates", "--operators",
            "constraint,widen", "--max-repairs", "0",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (round_one,) = json.loads(done.stdout)["rounds"]
    assert (round_one["parents"], round_one["accepted"]) == (1, 1)
    assert "round 1: 1 parents, 1 harder variants accepted" in done.stderr
    (variant,) = load_from_disk(str(evolved))["train"]
    assert variant["lineage"]["parent_id"] == row["id"]
    assert variant["lineage"]["operator"] in ("constraint", "widen")


def test_seeds_copied_from_a_benchmark_file_are_skipped_before_anything_is_spent(tmp_path):
    seeds = write_seed_dir(tmp_path / "src")
    pool = load_seed_pool([seeds])
    bench = tmp_path / "bench.jsonl"
    bench.write_text(
        "".join(
            json.dumps({"task_id": f"t/{i}", "description": "a task", "solution": snippet.code})
            + "\n"
            for i, snippet in enumerate(pool.snippets)
        )
    )
    done, out = generate(tmp_path, "--seed-code", seeds, "--benchmark-file", bench)
    # both copies of slugify are benchmark copies, so neither counts as the other's duplicate
    assert_one_line_error(done, "gave no usable snippet", "5 benchmark")
    assert not out.exists()
