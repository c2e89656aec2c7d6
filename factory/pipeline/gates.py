"""Quality gates: checks a candidate must also pass after the sandbox accepted it.

A gate is any object with a ``name`` and an async ``__call__(candidate, quality)`` that
returns None to keep the candidate or a :class:`~factory.records.Rejection` naming itself.
The per-problem flow applies the run's gates in order to every candidate whose tests passed;
the first rejection sends the candidate back to repair with its feedback (or, when no repair
round is left, ends the problem in ``rejected``), and its reason is counted. A gate may record
measurements in ``quality``, the row's metrics, whatever it decides.

    class MinTests:
        name = "min_tests"
        async def __call__(self, candidate, quality):
            if candidate.result.n_tests >= 3:
                return None
            return Rejection(gate=self.name, reason="too_few_tests",
                             feedback="Write at least 3 tests.", side="tests")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from factory.records import QualityMetrics, Rejection
from factory.stages.propose import Problem
from sandbox import Result


@dataclass(frozen=True)
class Candidate:
    """A solution and tests that passed in the sandbox, with what gates may want to look at."""

    slot: int
    problem: Problem
    solution: str
    tests: str
    result: Result
    attempt_index: int


class Gate(Protocol):
    name: str

    async def __call__(self, candidate: Candidate, quality: QualityMetrics) -> Rejection | None: ...


async def apply_gates(
    gates: Sequence[Gate], candidate: Candidate, quality: QualityMetrics
) -> Rejection | None:
    """Runs ``gates`` in order; the first rejection stops the chain and is returned."""
    for gate in gates:
        rejection = await gate(candidate, quality)
        if rejection is not None:
            return rejection
    return None
