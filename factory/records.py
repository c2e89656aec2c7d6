"""The dataset row and its parts: everything one generated problem leaves behind.

A row is a :class:`ProblemRecord`. It carries the problem statement, the final solution and
tests, every attempt the sandbox judged (code, tests, verdict, the failure report shown to the
model, the model's explanation of its repair), token usage per stage, optional quality metrics,
and provenance: which model at which endpoint, with which sampling parameters, prompts,
taxonomy, seed and sandbox produced it. Rows are validated when written and when read back;
``schema_version`` changes whenever a field does.

Everything here is typed down to the leaves (no free-form dicts), so the exported Hugging Face
dataset gets one fixed Arrow schema derived from these models (see ``factory.dataset.features``).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from factory.quality.report import QualityReport
from problems.taxonomy import Difficulty
from sandbox import Result, Status

SCHEMA_VERSION = 1
TAIL_CHARS = 2000  # stdout/stderr kept per attempt: the end, where the failure usually is
MESSAGE_CHARS = 500


class Split(StrEnum):
    """Where a finished problem goes in the exported dataset.

    Every member is exported as a split, empty or not, so adding a member (say ``rejected``
    for rows a quality gate turned down) is all it takes to publish another split.
    """

    TRAIN = "train"
    FAILURES = "failures"
    DROPPED = "dropped"  # accepted, then removed by dedup or decontamination (never pushed)
    REJECTED = "rejected"  # passed the sandbox, but a quality gate turned it down to the end


class Stage(StrEnum):
    """The LLM calls of the loop; each is also the ``json_schema.name`` it asks for."""

    PROBLEM = "problem"
    SOLUTION = "solution"
    TESTS = "tests"
    REPAIR = "repair"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenUsage(_Record):
    """What the LLM calls of one stage cost."""

    calls: int = Field(0, description="completions received, re-asks included")
    reasks: int = Field(0, description="calls made because a reply was not valid for the schema")
    retries: int = Field(0, description="transport retries (429, 5xx, timeouts) inside calls")
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: TokenUsage) -> None:
        for name in TokenUsage.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Usage(_Record):
    """Token usage of one problem, per stage."""

    problem: TokenUsage = Field(default_factory=TokenUsage)
    solution: TokenUsage = Field(default_factory=TokenUsage)
    tests: TokenUsage = Field(default_factory=TokenUsage)
    repair: TokenUsage = Field(default_factory=TokenUsage)

    def stage(self, stage: Stage) -> TokenUsage:
        return getattr(self, stage.value)

    def total(self) -> TokenUsage:
        total = TokenUsage()
        for stage in Stage:
            total.add(self.stage(stage))
        return total


class FailedTest(_Record):
    name: str
    outcome: str
    message: str = ""


class Verdict(_Record):
    """The sandbox's account of one attempt, trimmed to what a reader of the dataset needs."""

    status: Status
    passed: bool
    n_tests: int = 0
    n_passed: int = 0
    error: str = ""
    failed_tests: list[FailedTest] = Field(default_factory=list)
    duration_s: float = 0.0
    stdout_tail: str = ""
    stderr_tail: str = ""
    sandbox_attempts: int = 1

    @classmethod
    def from_result(cls, result: Result) -> Verdict:
        return cls(
            status=result.status,
            passed=result.passed,
            n_tests=result.n_tests,
            n_passed=result.n_passed,
            error=result.error,
            failed_tests=[
                FailedTest(name=t.name, outcome=t.outcome, message=t.message[:MESSAGE_CHARS])
                for t in result.tests
                if t.outcome != "passed"
            ],
            duration_s=result.duration_s,
            stdout_tail=result.stdout[-TAIL_CHARS:],
            stderr_tail=result.stderr[-TAIL_CHARS:],
            sandbox_attempts=result.sandbox_attempts,
        )


class GateRejection(_Record):
    """A quality gate turned down a candidate the sandbox passed."""

    gate: str
    reason: str


class Attempt(_Record):
    """One solution + tests pair the sandbox judged.

    ``index`` 0 is the first try; index n was produced by the n-th repair, whose ``target``
    side it rewrote and whose ``explanation`` says why. ``feedback`` is the failure report
    shown to the model to repair this attempt (empty when the attempt was accepted).
    """

    index: int
    origin: Literal["initial", "repair"]
    repair_target: Literal["solution", "tests"] | None = None
    explanation: str = ""
    solution: str
    tests: str
    verdict: Verdict
    gate_rejection: GateRejection | None = None
    feedback: str = ""


class QualityMetrics(_Record):
    """Per-row measurements that quality gates fill in; None where a gate did not run."""

    line_coverage: float | None = None
    branch_coverage: float | None = None
    mutation_score: float | None = None
    near_duplicate_of: str | None = None
    contamination_match: str | None = None
    strength: QualityReport | None = Field(
        None, description="test-strength gates: coverage, mutants, hollow-test guards, features"
    )


class Sampling(_Record):
    temperature: float
    max_tokens: int
    seed: int = Field(description="the per-problem seed sent with every call of this problem")
    structured_outputs: bool = Field(True, description="response_format json_schema was sent")


class SandboxInfo(_Record):
    image: str
    image_id: str
    timeout_s: float
    memory_mb: int
    cpus: float
    network: bool


class Provenance(_Record):
    generator: str = Field(description="codefactory and its version")
    model: str
    endpoint: str = Field(
        description="scheme://host[:port] of the API (replicas: comma-separated), never credentials"
    )
    sampling: Sampling
    prompt_version: str
    prompt_hash: str
    taxonomy: str
    taxonomy_hash: str
    run_seed: int
    slot: int = Field(description="position in the run's stratified plan")
    few_shot: list[str] = Field(description="ids of the seed problems shown as examples")
    sandbox: SandboxInfo
    started_at: str
    finished_at: str


class ProblemRecord(_Record):
    """One dataset row: a problem, its final solution and tests, and how they came to be."""

    schema_version: int = SCHEMA_VERSION
    id: str
    split: Split
    title: str
    description: str
    entry_point: str
    signature: str
    topic: str
    subtopic: str
    difficulty: Difficulty
    solution: str
    tests: str
    n_repairs: int = Field(description="repair rounds used (accepted rows: rounds it needed)")
    failure_reason: str = Field("", description="why a row is not in train; empty in train")
    attempts: list[Attempt]
    usage: Usage
    quality: QualityMetrics | None = None
    provenance: Provenance


class AbandonedSlot(_Record):
    """A plan slot that produced no problem (the model never gave a usable statement).

    Kept in the store so a resumed run neither redoes it nor loses its token cost, but not
    exported: there is no problem to show.
    """

    schema_version: int = SCHEMA_VERSION
    slot: int
    stage: Stage
    reason: str
    usage: Usage
    finished_at: str


def problem_id(title: str, description: str, entry_point: str) -> str:
    """A content id: the same statement always gets the same id, whoever generated it."""
    digest = hashlib.sha256("\0".join((title, description, entry_point)).encode()).hexdigest()
    return f"cf-{digest[:16]}"


def title_key(title: str) -> str:
    """Titles compared for "already produced": case, punctuation and spacing ignored."""
    return " ".join("".join(ch if ch.isalnum() else " " for ch in title.lower()).split())
