"""The dataset row and its parts: everything one generated problem leaves behind.

A row is a :class:`ProblemRecord`. It carries the problem statement, the final solution and
tests, every attempt the sandbox judged (code, tests, verdict, the failure report shown to the
model, the model's explanation of its repair), token usage per stage, optional quality metrics,
and provenance: which model at which endpoint, with which sampling parameters, prompts,
taxonomy, seed and sandbox produced it. Rows are validated when written and when read back;
``schema_version`` changes whenever a field does, and rows of an earlier version are upgraded
as they are read (see ``_upgrade``), so a store or an export written before still loads.

The vocabulary of keep / reject / drop is defined here once: a :data:`Side` is the file a
repair rewrites; a :class:`Rejection` says which gate turned an attempt down (the static
checks, the sandbox, or a quality gate), why, and what the model is shown; a :class:`Drop`
says why hygiene removed an accepted row and what it matched.

Everything here is typed down to the leaves (no free-form dicts), so the exported Hugging Face
dataset gets one fixed Arrow schema derived from these models (see ``factory.dataset.features``).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from factory.quality.report import QualityReport, Side
from problems.taxonomy import Difficulty
from sandbox import Result, Status

SCHEMA_VERSION = 2  # 2: Attempt.rejection (was gate_rejection + feedback), ProblemRecord.drop
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


STATIC_GATE = "static"  # the static checks, before any sandbox run
SANDBOX_GATE = "sandbox"  # the tests did not pass in the sandbox
JUDGE_GATE = "judge"  # the judge model rated the statement below the run's threshold


class Rejection(_Record):
    """Why an attempt was not accepted, whichever gate said so.

    ``gate`` is ``static`` (the static checks, no sandbox run spent), ``sandbox`` (the tests
    did not pass), ``judge`` (the judge model's score was too low) or the name of a quality
    gate that turned down code the sandbox passed.
    ``reason`` is short and stable, so it can be counted: the failed check (``syntax``), the
    sandbox status (``failed``, ``timeout``...) or the gate's own (``coverage+mutation_score``).
    """

    gate: str
    reason: str
    feedback: str = Field("", description="the failure report shown to the model to repair it")
    side: Side | None = Field(None, description="the side the repair must rewrite, if known")

    @property
    def after_sandbox(self) -> bool:
        """True for a quality gate: the sandbox passed the code, a gate turned it down."""
        return self.gate not in (STATIC_GATE, SANDBOX_GATE)


class Attempt(_Record):
    """One solution + tests pair the sandbox (or the static checks before it) judged.

    ``index`` 0 is the first try; index n was produced by the n-th repair, whose ``target``
    side it rewrote and whose ``explanation`` says why. ``rejection`` is None when the attempt
    was accepted.
    """

    index: int
    origin: Literal["initial", "repair"]
    repair_target: Side | None = None
    explanation: str = ""
    solution: str
    tests: str
    verdict: Verdict
    rejection: Rejection | None = None

    @property
    def feedback(self) -> str:
        """The failure report shown to the model to repair this attempt ("" if accepted)."""
        return self.rejection.feedback if self.rejection else ""


class DropReason(StrEnum):
    """Why hygiene removed an accepted row (each is a counter the run reports)."""

    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    SEMANTIC_DUPLICATE = "semantic_duplicate"  # description embeddings, cosine >= 0.95
    BENCHMARK_DESCRIPTION = "benchmark_description_overlap"
    BENCHMARK_CODE = "benchmark_code_overlap"
    BENCHMARK_NORMALISED_CODE = "benchmark_normalised_code"
    # an evolved variant that is not measurably harder than its parent
    STATEMENT_UNCHANGED = "statement_unchanged"
    NOT_HARDER = "not_harder"

    @property
    def stage(self) -> DropStage:
        """The funnel step that drops for this reason."""
        if self in (DropReason.STATEMENT_UNCHANGED, DropReason.NOT_HARDER):
            return "evolve"
        return "dedup" if self.value.endswith("duplicate") else "decontamination"


DropStage = Literal["dedup", "decontamination", "evolve"]


class Drop(_Record):
    """Why hygiene moved an accepted row to ``dropped``, and what it matched."""

    reason: DropReason
    stage: DropStage
    matched: str = Field(description="the kept row's id, benchmark:task_id, or the parent's id")
    detail: str = ""

    @classmethod
    def of(cls, reason: DropReason, matched: str, detail: str = "") -> Drop:
        return cls(reason=reason, stage=reason.stage, matched=matched, detail=detail)

    def describe(self) -> str:
        """The row's ``failure_reason`` line."""
        return f"{self.reason.value}: {self.matched} ({self.detail})"


class JudgeScore(_Record):
    """A judge model's rating of a statement against its solution and tests (1 to 5)."""

    model: str
    score: int = Field(ge=1, le=5)
    reason: str
    usage: TokenUsage = Field(default_factory=TokenUsage)


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
    judge: JudgeScore | None = Field(None, description="the judge model's rating, if one ran")


class SeedCodeRef(_Record):
    """The real code snippet a problem was grounded on."""

    source: str = Field(description="file path, or <file or dataset>#<row>")
    sha256: str
    kind: Literal["function", "class", "window"]
    name: str = ""
    licence: str = Field("", description="the source's licence field, when it has one")
    style: Literal["snippet", "concepts"]
    concepts: str = Field("", description="the concepts the model named first (concepts style)")


class Lineage(_Record):
    """An evolved row: which accepted row it rewrites harder, with which operator, when."""

    parent_id: str
    root_id: str = Field(description="the original row its chain of variants starts from")
    operator: str
    round: int = Field(ge=1, description="1: a variant of an original row; 2: of a variant...")


class Sampling(_Record):
    temperature: float
    max_tokens: int
    seed: int = Field(description="the per-problem seed sent with every call of this problem")
    structured_outputs: bool = Field(True, description="response_format json_schema was sent")


class SandboxInfo(_Record):
    image: str
    image_id: str
    timeout_s: float
    cpu_timeout_s: float | None = Field(None, description="None: the wall-clock limit")
    memory_mb: int
    cpus: float
    network: bool


class Provenance(_Record):
    """Where one row came from: model, endpoint, sampling, prompts, taxonomy, seed, sandbox."""

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
    seed_code: SeedCodeRef | None = Field(None, description="the snippet it was grounded on")
    persona: str | None = Field(None, description="the audience it was written for")
    focus_examples: list[str] | None = Field(
        None, description="ids of failed problems shown as examples (a --focus run)"
    )


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
    drop: Drop | None = Field(None, description="set on dropped rows: why hygiene removed it")
    provenance: Provenance
    lineage: Lineage | None = Field(None, description="set on an evolved variant")

    @model_validator(mode="before")
    @classmethod
    def _read_older_versions(cls, data: Any) -> Any:
        return _upgrade(data)


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

    @model_validator(mode="before")
    @classmethod
    def _read_older_versions(cls, data: Any) -> Any:
        return _upgrade(data)


def problem_id(title: str, description: str, entry_point: str) -> str:
    """A content id: the same statement always gets the same id, whoever generated it."""
    digest = hashlib.sha256("\0".join((title, description, entry_point)).encode()).hexdigest()
    return f"cf-{digest[:16]}"


def title_key(title: str) -> str:
    """Titles compared for "already produced": case, punctuation and spacing ignored."""
    return " ".join("".join(ch if ch.isalnum() else " " for ch in title.lower()).split())


def _upgrade(data: Any) -> Any:
    """A stored row of an earlier schema version, in the current layout.

    Version 1 kept ``gate_rejection`` (gate, reason) and ``feedback`` apart on each attempt,
    and said why hygiene dropped a row only in ``failure_reason``
    (``<reason>: <matched> (<detail>)``). Their side is not recoverable, so it is None. It
    also named MBPP tasks ``mbpp:<n>``, where the evaluation harness says ``mbpp:Mbpp/<n>``.
    """
    if not isinstance(data, dict) or data.get("schema_version", SCHEMA_VERSION) != 1:
        return data
    data = {**data, "schema_version": SCHEMA_VERSION}
    if "attempts" in data:
        data["attempts"] = [_attempt_from_v1(attempt) for attempt in data["attempts"]]
    if data.get("split") == Split.DROPPED and data.get("drop") is None:
        reason, _, rest = str(data.get("failure_reason", "")).partition(": ")
        matched, _, detail = rest.partition(" (")
        if reason in DropReason._value2member_map_:
            drop = Drop.of(DropReason(reason), _mbpp_id(matched), detail.removesuffix(")"))
            data["drop"], data["failure_reason"] = drop, drop.describe()
    quality = data.get("quality")
    if isinstance(quality, dict) and quality.get("contamination_match"):
        data["quality"] = {
            **quality,
            "contamination_match": _mbpp_id(quality["contamination_match"]),
        }
    return data


def _mbpp_id(matched: str) -> str:
    benchmark, _, task = matched.partition(":")
    return f"mbpp:Mbpp/{task}" if benchmark == "mbpp" and task.isdigit() else matched


def _attempt_from_v1(attempt: Any) -> Any:
    if not isinstance(attempt, dict) or "rejection" in attempt:
        return attempt
    attempt = dict(attempt)
    gate = attempt.pop("gate_rejection", None)
    feedback = attempt.pop("feedback", "") or ""
    verdict = attempt.get("verdict") or {}
    if gate:
        attempt["rejection"] = Rejection(
            gate=gate["gate"], reason=gate["reason"], feedback=feedback
        )
    elif feedback or not verdict.get("passed", True):
        # A failed attempt: the static checks when no sandbox run was spent on it.
        static = verdict.get("sandbox_attempts", 1) == 0
        attempt["rejection"] = Rejection(
            gate=STATIC_GATE if static else SANDBOX_GATE,
            reason=str(verdict.get("status", "")),
            feedback=feedback,
        )
    return attempt
