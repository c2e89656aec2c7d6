"""How the HumanEval+ / MBPP+ judge data splits and times a task's inputs: the per-input limits
(EvalPlus's max(floor, factor x the reference's time), plus an answer's transfer time) and the
batches the inputs go to the candidate in. Pure logic, on the host."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import pytest

from factory.evaluate.benchmarks import evalplus_programs as programs


def _straight_limits(factor, times, outputs, floor_s):
    """The rule written out, input by input, as the fast path must reproduce it."""
    return [
        round(
            max(floor_s, factor * t) + programs.TRANSFER_S_PER_MB * programs._chars(text) / 1e6, 3
        )
        for t, text in zip(times, outputs, strict=True)
    ]


def _outputs(rng: random.Random, count: int) -> tuple[list[float], list[str | None]]:
    times, outputs = [], []
    for _ in range(count):
        times.append(rng.choice([0.0, 1e-6, rng.random() * 0.01, rng.random() * 3.0]))
        kind = rng.randrange(5)
        if kind == 0:
            outputs.append(None)
        elif kind == 1:
            digest = {"sha256": "0" * 64, "floats": False, "chars": rng.randrange(10**7)}
            outputs.append(json.dumps(digest))
        elif kind == 2:
            outputs.append(json.dumps({"k": "v" * rng.randrange(600)}))
        else:
            outputs.append('"' + "x" * rng.choice([0, 10, 399, 400, 401, 5000]) + '"')
    return times, outputs


@pytest.mark.parametrize("floor_s", [4.0, 1.0, 0.0015, 4.0004, 4.00049, 10.0, 0.0])
@pytest.mark.parametrize("factor", [4.0, 1.0])
def test_limits_are_the_rule_written_out(floor_s, factor):
    rng = random.Random(f"{floor_s}-{factor}")
    bench = SimpleNamespace(time_factor=factor)
    times, outputs = _outputs(rng, 3000)
    assert programs.time_limits(bench, times, outputs, floor_s) == _straight_limits(
        factor, times, outputs, floor_s
    )


def test_limits_refuse_times_and_outputs_of_different_lengths():
    with pytest.raises(ValueError):
        programs.time_limits(SimpleNamespace(time_factor=4.0), [0.1, 0.2], ['"a"'], 4.0)


def _batches(ends: list[int]) -> list[range]:
    starts = [0, *ends[:-1]]
    return [range(start, end) for start, end in zip(starts, ends, strict=True)]


def test_batches_grow_to_1024_inputs_and_cover_every_input_once():
    ends = programs.batch_ends(['"a"'] * 3000, set())
    assert [len(batch) for batch in _batches(ends)] == [64, 256, 1024, 1024, 632]
    assert ends[-1] == 3000
    assert programs.batch_ends([], set()) == []
    assert programs.batch_ends(['"a"'] * 10, set()) == [10]


def test_an_input_whose_answer_is_recomputed_goes_alone():
    outputs = ['"a"'] * 100
    ends = programs.batch_ends(outputs, {0, 50, 99})
    batches = _batches(ends)
    assert [b for b in batches if 0 in b] == [range(0, 1)]
    assert [b for b in batches if 50 in b] == [range(50, 51)]
    assert [b for b in batches if 99 in b] == [range(99, 100)]
    assert sorted(i for b in batches for i in b) == list(range(100))


def test_a_batch_stops_before_its_expected_answers_pass_the_cap():
    big = '"' + "x" * (programs.BATCH_ANSWER_CHARS // 3) + '"'
    outputs = [big] * 7 + ['"a"'] * 5
    batches = _batches(programs.batch_ends(outputs, set()))
    for batch in batches:
        chars = sum(len(outputs[i]) for i in batch)
        assert len(batch) == 1 or chars <= programs.BATCH_ANSWER_CHARS
    assert sorted(i for b in batches for i in b) == list(range(12))
    huge = ['"' + "x" * (2 * programs.BATCH_ANSWER_CHARS) + '"', '"a"']
    assert programs.batch_ends(huge, set()) == [1, 2]  # a large answer still goes, alone
