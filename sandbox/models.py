"""Records that cross the sandbox boundary: the job going in, the result coming out."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sandbox.text import representable

SCHEMA_VERSION = 1
DEFAULT_OUTPUT_LIMIT = 64 * 1024
MAX_FILE_DEPTH = 32  # parts of an extra file's name
MAX_NAME_BYTES = 255  # the longest name a Linux file system takes


class Status(StrEnum):
    """How a job ended. Only ``passed`` means the tests proved the solution."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SYNTAX_ERROR = "syntax_error"
    TIMEOUT = "timeout"
    OOM = "oom"
    SANDBOX_ERROR = "sandbox_error"


class Limits(BaseModel):
    """Hard limits for one container; jobs may narrow time and memory per job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout_s: float = Field(30.0, gt=0, le=3600, description="wall-clock limit per job")
    cpu_timeout_s: float | None = Field(
        None,
        gt=0,
        le=3600,
        description="CPU seconds per job, all of its processes together (None: timeout_s)",
    )
    memory_mb: int = Field(512, ge=32, le=65536, description="memory limit, no swap")
    cpus: float = Field(1.0, gt=0, le=64, description="CPU quota per container")
    pids: int = Field(256, ge=16, le=65536, description="process and thread limit")
    work_mb: int = Field(256, ge=8, le=65536, description="size of the /work tmpfs")
    tmp_mb: int = Field(64, ge=8, le=65536, description="size of the /tmp tmpfs")
    output_limit_bytes: int = Field(DEFAULT_OUTPUT_LIMIT, ge=1024, le=64 * 1024 * 1024)
    network: bool = Field(False, description="give the container a network (off by default)")


class Variant(BaseModel):
    """Another solution judged by the job's tests inside the same job (quality gates).

    The job process prepares once (pytest imported, tests checked), runs ``solution`` first,
    then each variant in a fresh forked child of its own, in its own directory, with its own
    CPU budget: ``cpu_factor`` times the CPU time the job's own solution takes when run the way
    a variant is (same session, no coverage; the coverage session's time if that run does not
    pass), at least ``cpu_floor_s``, at most ``cpu_timeout_s``, and ``timeout_s`` of
    wall-clock time (``Result.cpu_budget_s`` says the budget it got). Variants
    run only if the job's own solution passed. ``line``: run only if the job's own solution,
    measured under coverage, executed that line of it (a change there cannot matter otherwise);
    ``min_line_rate`` / ``min_branch_rate``: run only if that coverage reached these rates.
    ``unless_passed`` / ``unless_any_test_passed``: run only if none of these earlier variants
    passed / had a test pass (a gate has failed already, so its result would not be used).
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _representable(cls, value: Any) -> Any:
        return representable(value)

    id: str = Field(min_length=1, max_length=512)
    solution: str
    timeout_s: float = Field(5.0, gt=0, le=3600)
    cpu_timeout_s: float = Field(5.0, gt=0, le=3600)
    cpu_factor: float = Field(5.0, gt=0, le=1000)
    cpu_floor_s: float = Field(0.5, gt=0, le=3600)
    line: int | None = Field(None, ge=1)
    min_line_rate: float | None = Field(None, ge=0, le=1)
    min_branch_rate: float | None = Field(None, ge=0, le=1)
    unless_passed: list[str] = Field(default_factory=list, max_length=1000)
    unless_any_test_passed: list[str] = Field(default_factory=list, max_length=1000)
    stop_at_first_failure: bool = Field(
        False, description="end the variant's session at its first failing test (a mutant)"
    )


def _check_files(files: dict[str, str]) -> dict[str, str]:
    """Extra files' names: relative paths inside the job, not the solution or tests."""
    for name in files:
        parts = name.replace("\\", "/").split("/")
        if not name or name.startswith("/") or ".." in parts:
            raise ValueError(f"extra file name must be a relative path inside the job: {name!r}")
        if name in ("solution.py", "test_solution.py"):
            raise ValueError(f"extra file {name!r} would overwrite the solution or tests")
        names = [part for part in parts if part not in ("", ".")]
        if not names or name.endswith("/") or "\0" in name:
            raise ValueError(f"extra file name must name a file (no NUL byte): {name!r}")
        if len(names) > MAX_FILE_DEPTH or any(
            len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for part in names
        ):
            raise ValueError(
                f"extra file name must have at most {MAX_FILE_DEPTH} parts of at most "
                f"{MAX_NAME_BYTES} bytes each: {name[:80]!r}"
            )
    return files


class BatchCandidate(BaseModel):
    """Another candidate judged in the same trusted-mode job, by the job's judge program or
    its own (``tests``, ``entry_points``: another task of the same benchmark).

    It is judged exactly as a job of its own with the job's tests, entry points and limits
    would be (``sandbox/runner/trusted_batch.py``): in a fresh process, with its own CPU
    budget and wall-clock limit, after every process the previous candidate left is killed
    and the scratch places emptied. ``solution``: ``None`` for the job's own (a driver that
    runs the program in ``files``)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _representable(cls, value: Any) -> Any:
        return representable(value)

    id: str = Field(min_length=1, max_length=512)
    solution: str | None = None
    files: dict[str, str] = Field(default_factory=dict)
    tests: str | None = Field(None, description="its own judge program (None: the job's)")
    judge_data: str | None = Field(
        None, description="its own judge data, ``judge.data`` (None: the job's)"
    )
    entry_points: list[str] | None = Field(
        None, max_length=256, description="the functions its judge calls (None: the job's)"
    )

    @field_validator("files")
    @classmethod
    def _relative_paths(cls, files: dict[str, str]) -> dict[str, str]:
        return _check_files(files)

    @field_validator("entry_points")
    @classmethod
    def _identifiers(cls, names: list[str] | None) -> list[str] | None:
        for name in names or []:
            if not name.isidentifier():
                raise ValueError(f"an entry point must be a Python identifier: {name!r}")
        return names


class Job(BaseModel):
    """A candidate solution and its tests.

    In ``pytest`` and ``script`` mode both are untrusted and run in one process. In
    ``trusted`` mode ``tests`` is a trusted judge program (a benchmark's checks, a dataset's
    accepted tests): it runs in a process of its own, under another uid, with each name of
    ``entry_points`` bound to a proxy that calls the candidate's function of that name in the
    candidate's process, arguments and results crossing as plain data (see
    ``sandbox/runner/trusted.py``). The candidate cannot reach the judge or its verdict.
    """

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    id: str = Field(min_length=1, max_length=512)
    solution: str
    tests: str
    mode: Literal["pytest", "script", "trusted"] = "pytest"
    timeout_s: float | None = Field(None, gt=0, le=3600)
    cpu_timeout_s: float | None = Field(None, gt=0, le=3600)
    memory_mb: int | None = Field(None, ge=32, le=65536)
    output_limit_bytes: int | None = Field(
        None, ge=1024, le=64 * 1024 * 1024, description="this job's stdout and stderr at most"
    )
    files: dict[str, str] = Field(default_factory=dict, description="extra files by relative path")
    coverage: bool = Field(False, description="measure line and branch coverage of solution.py")
    variants: list[Variant] = Field(
        default_factory=list,
        max_length=1000,
        description="other solutions judged by the same tests in this one job (pytest mode)",
    )
    entry_points: list[str] = Field(
        default_factory=list,
        max_length=256,
        description="trusted mode: the candidate's functions the judge program may call",
    )
    judge_data: str | None = Field(
        None,
        description="trusted mode: text the judge program reads as ``judge.data``, so one judge "
        "program serves many tasks (each task's data here) and a batch compiles it once",
    )

    # The job's texts come back in its result (its id, at least): made representable here,
    # once, so no text of any job can stop a batch that writes results (see sandbox/text.py).
    @field_validator("*", mode="before")
    @classmethod
    def _representable(cls, value: Any) -> Any:
        return representable(value)

    @field_validator("entry_points")
    @classmethod
    def _identifiers(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name.isidentifier():
                raise ValueError(f"an entry point must be a Python identifier: {name!r}")
        return names

    candidates: list[BatchCandidate] = Field(
        default_factory=list,
        max_length=256,
        description="trusted mode: more candidates judged in this one job, each as a job of "
        "its own with the same limits would judge it (one Result each)",
    )

    @field_validator("files")
    @classmethod
    def _relative_paths(cls, files: dict[str, str]) -> dict[str, str]:
        return _check_files(files)

    @model_validator(mode="after")
    def _candidates_in_trusted_mode(self) -> Job:
        if self.candidates and (self.mode != "trusted" or self.variants):
            raise ValueError("candidates are for trusted-mode jobs without variants")
        if self.judge_data is not None and self.mode != "trusted":
            raise ValueError("judge_data is for trusted-mode jobs")
        ids = [self.id, *(candidate.id for candidate in self.candidates)]
        if len(set(ids)) != len(ids):
            raise ValueError("the job and its candidates need distinct ids")
        return self

    def singles(self) -> list[Job]:
        """The job of its own each candidate stands for: the job's, then each candidate's."""
        if not self.candidates:
            return [self]
        own = self.model_copy(update={"candidates": []})
        return [own] + [
            own.model_copy(
                update={
                    "id": candidate.id,
                    "solution": self.solution if candidate.solution is None else candidate.solution,
                    "files": candidate.files,
                    "tests": self.tests if candidate.tests is None else candidate.tests,
                    "judge_data": self.judge_data
                    if candidate.judge_data is None
                    else candidate.judge_data,
                    "entry_points": self.entry_points
                    if candidate.entry_points is None
                    else candidate.entry_points,
                }
            )
            for candidate in self.candidates
        ]

    @classmethod
    def batched(cls, jobs: list[Job]) -> Job:
        """One job judging every job of ``jobs`` (trusted mode, the same limits; each keeps
        its own judge program and entry points; see :attr:`candidates`); raises
        ``ValueError`` otherwise."""
        first = jobs[0]
        same = ("mode", "timeout_s", "cpu_timeout_s", "memory_mb", "output_limit_bytes")
        for job in jobs[1:]:
            # a candidate's judge_data None means the job's: a job without any joins only such
            if (
                any(getattr(job, name) != getattr(first, name) for name in same)
                or (job.candidates or job.variants or job.coverage)
                or ((job.judge_data is None) != (first.judge_data is None))
            ):
                raise ValueError(f"job {job.id} cannot be judged in the same job as {first.id}")
        candidates = [
            BatchCandidate(
                id=job.id,
                solution=None if job.solution == first.solution else job.solution,
                files=job.files,
                tests=None if job.tests == first.tests else job.tests,
                judge_data=None if job.judge_data == first.judge_data else job.judge_data,
                entry_points=None if job.entry_points == first.entry_points else job.entry_points,
            )
            for job in jobs[1:]
        ]
        return first.model_copy(update={"candidates": candidates})


class TestOutcome(BaseModel):
    """One test's fate in pytest mode (setup, call and teardown folded together)."""

    __test__ = False  # not a pytest test class
    model_config = ConfigDict(extra="forbid")

    name: str
    outcome: Literal["passed", "failed", "error", "skipped"]
    message: str = ""
    traceback: str = ""
    duration_s: float = 0.0


class CoverageReport(BaseModel):
    """Line and branch coverage of solution.py by the tests (pytest jobs with ``coverage``).

    coverage.py measures it inside the sandbox, in the same process as the job's own code, which
    could disturb or forge it: it is a quality metric for well-behaved code, never a security
    boundary, and it never changes a verdict. ``error`` says why nothing was measured.
    """

    model_config = ConfigDict(extra="forbid")

    lines_total: int = Field(0, ge=0)
    lines_covered: int = Field(0, ge=0)
    missing_lines: list[int] = Field(default_factory=list)
    branches_total: int = Field(0, ge=0)
    branches_covered: int = Field(0, ge=0)
    missing_branches: list[tuple[int, int]] = Field(
        default_factory=list, description="(from line, to line); a negative target is an exit"
    )
    error: str = ""

    @property
    def line_rate(self) -> float:
        """Covered fraction of statements; a module without statements counts as covered."""
        return self.lines_covered / self.lines_total if self.lines_total else 1.0

    @property
    def branch_rate(self) -> float:
        return self.branches_covered / self.branches_total if self.branches_total else 1.0


class Result(BaseModel):
    """The sandbox's verdict on one job, with what a model needs to repair the code."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    id: str
    status: Status
    passed: bool
    tests: list[TestOutcome] = Field(default_factory=list)
    n_tests: int = 0
    n_passed: int = 0
    error: str = Field("", description="one-paragraph summary of why it did not pass")
    stdout: str = ""
    stderr: str = ""
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    duration_s: float = 0.0
    exit_code: int | None = Field(None, description="informational only; never decides")
    signal: int | None = None
    sandbox_attempts: int = 1
    coverage: CoverageReport | None = None
    limit: Literal["cpu", "wall", "memory"] | None = Field(
        None, description="which limit ended the job, if one did"
    )
    cpu_s: float = Field(0.0, ge=0, description="CPU seconds the job's processes used")
    cpu_budget_s: float | None = Field(None, ge=0, description="a variant's CPU budget")
    variants: list[Result] = Field(
        default_factory=list, description="one per variant that ran, in the job's order"
    )
    skipped_variants: list[str] = Field(
        default_factory=list, description="variants not run (their line was never executed)"
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="trusted mode: what the judge program reported"
    )

    def feedback(self, max_chars: int = 4000) -> str:
        """A report of the failure meant to be shown to a model that will repair the code."""
        lines = [f"status: {self.status.value}"]
        if self.error:
            lines.append(f"summary: {self.error}")
        for test in self.tests:
            if test.outcome != "passed":
                lines.append(f"- {test.name}: {test.outcome}: {test.message}")
                if test.traceback:
                    lines.append(_indent(test.traceback[-1200:]))
        if self.stderr.strip() and self.status != Status.PASSED:
            lines.append("stderr (end):")
            lines.append(_indent(self.stderr[-1500:]))
        text = "\n".join(lines)
        return text if len(text) <= max_chars else text[: max_chars - 4] + "\n..."


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines())
