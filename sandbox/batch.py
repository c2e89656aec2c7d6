"""Running a JSONL file of jobs through the pool, streaming results to a JSONL file.

The whole file is validated before any job runs (bad JSON, invalid job, duplicate id: the
message names the line), so a typo on line 90,000 does not surface after an hour of work.
Jobs are then read again lazily, so memory stays flat whatever the file's size, and each
result is written as one line and flushed as soon as it is known.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from sandbox.errors import JobFileError
from sandbox.models import Job, Result
from sandbox.pool import PoolConfig, SandboxPool

JOB_FIELDS = frozenset(Job.model_fields)


class BatchTally:
    """How many results of a batch ended in each status, as a run reports them."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.written = 0

    def add(self, result: Result) -> None:
        self.counts[result.status.value] = self.counts.get(result.status.value, 0) + 1
        self.written += 1

    def line(self) -> str:
        """``failed=2 passed=8``: the counts so far, by status name."""
        return " ".join(f"{status}={n}" for status, n in sorted(self.counts.items()))

    def summary(self) -> dict[str, int]:
        """``{"jobs": 10, "failed": 2, "passed": 8}``: what the run prints at its end."""
        return {"jobs": self.written, **dict(sorted(self.counts.items()))}


def count_and_validate(path: Path) -> int:
    """Checks every line of a jobs file; returns the number of jobs."""
    seen: set[str] = set()
    count = 0
    for number, job in _read(path):
        if job.id in seen:
            raise JobFileError(f"{path}:{number}: duplicate job id {job.id!r}")
        seen.add(job.id)
        count += 1
    if count == 0:
        raise JobFileError(f"{path}: no jobs in the file")
    return count


def _read(path: Path) -> Iterator[tuple[int, Job]]:
    try:
        handle = open(path, encoding="utf-8")
    except OSError as exc:
        raise JobFileError(f"cannot read jobs file {path}: {exc.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            yield number, parse_job_line(line, f"{path}:{number}")


def parse_job_line(line: str, where: str) -> Job:
    try:
        data: Any = json.loads(line)
    except ValueError as exc:
        raise JobFileError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict):
        raise JobFileError(f"{where}: a job must be a JSON object")
    unknown = set(data) - JOB_FIELDS
    if unknown:
        raise JobFileError(
            f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(JOB_FIELDS)}"
        )
    try:
        return Job(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise JobFileError(f"{where}: invalid job field {field!r}: {first['msg']}") from None


async def run_jobs_file(
    path: Path,
    out: IO[str],
    config: PoolConfig,
    on_result: Callable[[Result], None] | None = None,
    *,
    total: int | None = None,
    tally: BatchTally | None = None,
) -> int:
    """Runs every job of ``path`` and writes one result line each to ``out``; returns the count.

    ``tally``, if given, counts each result by status as it is written (before ``on_result``
    sees it).

    ``total`` is what :func:`count_and_validate` returned for ``path``, for a caller that has
    already checked the file (to size a progress bar, say): the file is then not checked again.
    Without it the whole file is checked here first, before any container starts.
    """
    if total is None:
        count_and_validate(path)
    written = 0
    async with SandboxPool(config) as pool:
        async for result in pool.map(job for _, job in _read(path)):
            out.write(result.model_dump_json() + "\n")
            out.flush()
            written += 1
            if tally is not None:
                tally.add(result)
            if on_result is not None:
                on_result(result)
    return written
