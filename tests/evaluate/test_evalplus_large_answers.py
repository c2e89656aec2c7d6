"""Answers too large to ship with every sample agree with the real ``evalplus`` package.

Their expected outputs travel as a digest: the candidate's process sends the digest of its
answer first and the answer itself only when the digests differ, so the judge then compares
real values (floats with their tolerance). Two HumanEval+ tasks with multi-hundred-kilobyte
answers (a string, a list of ints and floats), trimmed to a few inputs each so CI stays cheap,
scored by both harnesses from a cold cache: correct samples, ones wrong or crashing only on the
large input, and one whose large answer differs from the expected one within the tolerance.
"""

from __future__ import annotations

import gzip
import json
from importlib import resources

import pytest

from factory.evaluate.benchmarks import evalplus_rules as rules
from tests.evaluate.evalplus_harness import run_evalplus, run_ours, write_samples

pytestmark = pytest.mark.docker

LARGE_N = 60_000
PLUS_INPUTS = {"HumanEval/15": [[1], [100], [LARGE_N]], "HumanEval/130": [[2], [10], [LARGE_N]]}
WRAPPERS = {
    "good": "",
    "wrong_large": "    if n > 50000:\n        out = out + ({sep!r} if isinstance(out, str) else [1])\n",
    "crash_large": "    if n > 50000:\n        raise ValueError('too large')\n",
    "close_large": "    if n > 50000:\n        out[-1] = out[-1] * (1 + 1e-12)\n",
}
KINDS = {
    "HumanEval/15": ["good", "wrong_large", "crash_large"],
    "HumanEval/130": ["good", "wrong_large", "close_large"],
}


def trimmed_release(path):
    raw = resources.files("factory.evaluate.benchmarks") / "data" / "HumanEvalPlus.jsonl.gz"
    records = []
    for line in gzip.decompress(raw.read_bytes()).decode("utf-8").splitlines():
        record = json.loads(line)
        if record["task_id"] in PLUS_INPUTS:
            record["plus_input"] = PLUS_INPUTS[record["task_id"]]
            records.append(record)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path, records


def sample(record, kind):
    entry = record["entry_point"]
    reference = record["prompt"] + record["canonical_solution"]
    if kind == "good":
        return reference
    wrapper = WRAPPERS[kind].format(sep=" ")
    return (
        f"{reference}\n_reference = {entry}\n\ndef {entry}(n):\n"
        f"    out = _reference(n)\n{wrapper}    return out\n"
    )


def test_large_answers_agree_with_evalplus(runner_image, tmp_path):
    data, records = trimmed_release(tmp_path / "humanevalplus.jsonl")
    samples, kinds = [], []
    for record in records:
        for kind in KINDS[record["task_id"]]:
            samples.append({"task_id": record["task_id"], "solution": sample(record, kind)})
            kinds.append(kind)
    samples_path = write_samples(tmp_path / "samples.jsonl", samples)

    theirs, _ = run_evalplus("humaneval", data, samples_path, tmp_path / "evalplus-cache")
    _, mine = run_ours("humanevalplus", samples_path, runner_image, tmp_path, data=data)
    assert set(mine) == set(theirs)

    seen = {}
    for (task_id, index), result in sorted(mine.items()):
        kind = KINDS[task_id][index]
        base_theirs = theirs[(task_id, index)]["base_status"] == "pass"
        plus_theirs = base_theirs and theirs[(task_id, index)]["plus_status"] == "pass"
        assert (result["base_status"] == "pass", result["passed"]) == (
            base_theirs,
            plus_theirs,
        ), (task_id, kind, result)
        seen[(task_id, kind)] = result["passed"]
    # every kind exercises the large input: the base inputs are small and all pass
    assert seen[("HumanEval/15", "good")] and seen[("HumanEval/130", "good")]
    assert not seen[("HumanEval/15", "wrong_large")] and not seen[("HumanEval/130", "wrong_large")]
    assert not seen[("HumanEval/15", "crash_large")]
    assert all(r["base_status"] == "pass" for r in mine.values())


# MBPP+'s Mbpp/255 returns every combination with replacement: on its largest input, 1.6
# million tuples. Such an answer crosses as the digest of its binary form; these inputs keep it
# to about 10,000 tuples (still that path) so CI stays cheap.
NESTED_INPUTS = [[["A", "B", "C"], 2], [["A", "B", "C", "D", "E"], 20], [[1.0, 2.0, 3.0, 4.0], 40]]
NESTED_WRAPPERS = {
    "good": "",
    "wrong_large": "    if n > 10:\n        out = out[:-1]\n",
    "lists_large": "    if n > 10:\n        out = [list(t) for t in out]\n",  # != tuples
    "subclass_large": (  # a tuple subclass: marshal refuses it, its plain form matches
        "    class Row(tuple):\n        pass\n    if n > 10:\n        out = [Row(t) for t in out]\n"
    ),
    "ints_large": (  # == the float tuples: the digests differ, the values are equal
        "    if n > 10:\n        out = [tuple(int(x) if isinstance(x, float) else x"
        " for x in t) for t in out]\n"
    ),
}


def test_huge_nested_answers_agree_with_evalplus(runner_image, tmp_path):
    raw = resources.files("factory.evaluate.benchmarks") / "data" / "MbppPlus.jsonl.gz"
    for line in gzip.decompress(raw.read_bytes()).decode("utf-8").splitlines():
        record = json.loads(line)
        if record["task_id"] == "Mbpp/255":
            break
    record["plus_input"] = NESTED_INPUTS
    namespace = {}
    exec(record["canonical_solution"], namespace)
    answers = [namespace[record["entry_point"]](*inp) for inp in NESTED_INPUTS]
    assert [rules.digest_scheme(answer) for answer in answers] == ["json", "marshal", "marshal"]
    data = tmp_path / "mbppplus.jsonl"
    data.write_text(json.dumps(record) + "\n", encoding="utf-8")
    entry = record["entry_point"]
    reference = record["canonical_solution"]
    samples = [
        {
            "task_id": "Mbpp/255",
            "solution": f"{reference}\n_reference = {entry}\n\ndef {entry}(l, n):\n"
            f"    out = _reference(l, n)\n{wrapper}    return out\n",
        }
        for wrapper in NESTED_WRAPPERS.values()
    ]
    samples_path = write_samples(tmp_path / "samples.jsonl", samples)

    theirs, _ = run_evalplus("mbpp", data, samples_path, tmp_path / "evalplus-cache")
    _, mine = run_ours("mbppplus", samples_path, runner_image, tmp_path, data=data)
    verdicts = {}
    for (_, index), result in sorted(mine.items()):
        kind = list(NESTED_WRAPPERS)[index]
        theirs_passed = all(
            theirs[("Mbpp/255", index)][f"{part}_status"] == "pass" for part in ("base", "plus")
        )
        assert result["passed"] == theirs_passed, (kind, result, theirs[("Mbpp/255", index)])
        verdicts[kind] = result["passed"]
    assert verdicts == {
        "good": True,
        "wrong_large": False,
        "lists_large": False,
        "subclass_large": True,
        "ints_large": True,
    }
