"""The events a job process reports, checked on the host before any verdict reads them.

Only the job's own process can write to its report channel (the token says so), but that process
runs untrusted code, which can reach the writer and send lines of any shape with the right token.
So every event is validated against the model of its kind, strictly (no coercion, no unknown
field, no unknown kind); one that fails makes the job an ``error``, and the verdict rules in
``verdict.py`` then read only well-formed events.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    variant: str | None = Field(None, description="set on the events of a variant's session")
    sample: int | None = Field(None, ge=0, description="a batch's candidate the event is of")


class Forked(_Event):
    event: Literal["forked"]
    pid: int


class Started(_Event):
    event: Literal["started"]


class Completed(_Event):
    event: Literal["completed"]
    calls: int | None = Field(None, ge=0, description="trusted mode: calls into the candidate")


class SyntaxErrorEvent(_Event):
    event: Literal["syntax_error"]
    file: str
    message: str


class ExceptionEvent(_Event):
    event: Literal["exception"]
    type: str
    message: str
    traceback: str = ""


class CollectError(_Event):
    event: Literal["collect_error"]
    name: str
    message: str
    traceback: str = ""


class TestStart(_Event):
    __test__ = False
    event: Literal["test_start"]
    name: str


class TestPhase(_Event):
    __test__ = False
    event: Literal["test_phase"]
    name: str
    phase: Literal["setup", "call", "teardown"]
    outcome: Literal["passed", "failed", "skipped"]
    xfail: bool
    message: str
    traceback: str = ""
    duration: float = Field(ge=0, allow_inf_nan=False)


class SessionFinished(_Event):
    event: Literal["session_finished"]
    collected: int = Field(ge=0)
    failed: int = Field(ge=0)
    exitstatus: int


class Coverage(_Event):
    event: Literal["coverage"]
    error: str = ""
    statements: int = Field(0, ge=0)
    missing_lines: list[int] = Field(default_factory=list)
    branches: int = Field(0, ge=0)
    missing_branches: int = Field(0, ge=0)
    missing_arcs: list[Annotated[list[int], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list
    )


class Report(_Event):
    event: Literal["report"]
    key: str
    value: Any


class BaselineEnd(_Event):
    event: Literal["baseline_end"]
    cpu_s: float = Field(ge=0, allow_inf_nan=False)


class ReferenceEnd(_Event):
    event: Literal["reference_end"]
    cpu_s: float = Field(ge=0, allow_inf_nan=False)
    passed: bool


class VariantStart(_Event):
    event: Literal["variant_start"]
    cpu_budget_s: float = Field(ge=0, allow_inf_nan=False)


class VariantSkipped(_Event):
    event: Literal["variant_skipped"]
    why: str


class VariantEnd(_Event):
    event: Literal["variant_end"]
    limit: Literal["cpu", "wall", "memory"] | None = None
    cpu_s: float = Field(ge=0, allow_inf_nan=False)
    duration_s: float = Field(ge=0, allow_inf_nan=False)
    exit_code: int | None = None
    signal: int | None = None


class SampleEnd(_Event):
    """The end of one candidate of a batch (``trusted_batch.py``): whether its events settle
    its verdict (else it runs again in a job of its own), and which limit stopped it."""

    event: Literal["sample_end"]
    settled: bool
    why: str = ""
    limit: Literal["cpu", "wall"] | None = None
    cpu_s: float = Field(ge=0, allow_inf_nan=False)
    duration_s: float = Field(ge=0, allow_inf_nan=False)
    cpu_budget_s: float = Field(gt=0, allow_inf_nan=False)


Event = Annotated[
    Forked
    | Started
    | Completed
    | SyntaxErrorEvent
    | ExceptionEvent
    | CollectError
    | TestStart
    | TestPhase
    | SessionFinished
    | Coverage
    | Report
    | BaselineEnd
    | ReferenceEnd
    | VariantStart
    | VariantSkipped
    | VariantEnd
    | SampleEnd,
    Field(discriminator="event"),
]
_EVENTS = TypeAdapter(list[Event])


def malformed(events: Any) -> str:
    """What is wrong with the first event that is not of its kind's shape, or ``""``."""
    try:
        _EVENTS.validate_python(events)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
            kind = first["input"].get("event") if isinstance(first["input"], dict) else None
            return f"event {where}: unknown kind {kind!r}"
        return f"event {where}: {first['msg']}"
    return ""
