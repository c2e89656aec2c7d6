"""Quality gates: checks a candidate must also pass after the sandbox accepted it.

A gate is any object with a ``name`` and an async ``__call__(candidate) -> GateDecision``.
The per-problem flow applies the run's gates in order to every candidate whose tests passed;
the first rejection sends the candidate back to repair with the gate's feedback (or, when no
repair round is left, ends the problem outside ``train``), and the reason is counted. Gates
may also report measurements, which are merged into the row's ``quality``.

    class MinTests:
        name = "min_tests"
        async def __call__(self, candidate):
            if candidate.result.n_tests >= 3:
                return keep()
            return reject("too_few_tests", "Write at least 3 tests.")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from factory.records import QualityMetrics
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


@dataclass(frozen=True)
class GateDecision:
    keep: bool
    reason: str = ""  # short and stable: it is counted, e.g. "low_coverage"
    feedback: str = ""  # shown to the repair model when rejected
    metrics: QualityMetrics | None = None  # only the fields a gate sets are merged
    target: Literal["solution", "tests"] | None = None  # the side the repair must rewrite


class Gate(Protocol):
    name: str

    async def __call__(self, candidate: Candidate) -> GateDecision: ...


def keep(metrics: QualityMetrics | None = None) -> GateDecision:
    return GateDecision(keep=True, metrics=metrics)


def reject(
    reason: str,
    feedback: str,
    metrics: QualityMetrics | None = None,
    target: Literal["solution", "tests"] | None = None,
) -> GateDecision:
    return GateDecision(
        keep=False, reason=reason, feedback=feedback, metrics=metrics, target=target
    )


@dataclass(frozen=True)
class Rejection:
    gate: str
    reason: str
    feedback: str
    target: Literal["solution", "tests"] | None = None


async def apply_gates(
    gates: Sequence[Gate], candidate: Candidate, quality: QualityMetrics
) -> Rejection | None:
    """Runs ``gates`` in order, merging their metrics into ``quality``; the first rejection
    stops the chain and is returned."""
    for gate in gates:
        decision = await gate(candidate)
        if decision.metrics is not None:
            for name in decision.metrics.model_fields_set:
                setattr(quality, name, getattr(decision.metrics, name))
        if not decision.keep:
            return Rejection(
                gate=gate.name,
                reason=decision.reason,
                feedback=decision.feedback,
                target=decision.target,
            )
    return None
