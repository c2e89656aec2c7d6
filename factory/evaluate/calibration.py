"""Per-task CPU-time limits calibrated from each task's reference solution, measured in the
same sandbox, stored with a description of the machine that measured them.

One limit for every task is either too tight for the few tasks whose reference is slow or too
loose for the many that take milliseconds (a looping sample then holds a container for the
whole limit). evalplus sets each task's limit from its reference solution; so does this, by
the rule ``max(floor_s, factor x the reference's CPU time)``, the floor being the run's own
``--cpu-timeout``, so a calibrated limit is never tighter than the uncalibrated one. The file
is JSON: reuse it on the same machine and image (CPU time, unlike wall time, hardly moves with
load), measure again elsewhere.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from factory.errors import InputFileError
from factory.evaluate.benchmarks import Benchmark
from sandbox import PoolConfig, SandboxPool, Status

DEFAULT_FACTOR = 4.0
REPEATS = 2  # the reference's CPU time is the smaller of two runs


class TaskLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference_cpu_s: float = Field(ge=0)
    cpu_timeout_s: float = Field(gt=0)


class Calibration(BaseModel):
    """The limits, how they were derived, and where they were measured."""

    model_config = ConfigDict(extra="forbid")

    benchmark: str
    rule: str
    floor_s: float = Field(gt=0)
    factor: float = Field(gt=0)
    machine: dict[str, str]
    image: str
    measured_at: str
    tasks: dict[str, TaskLimit]

    def limits(self) -> dict[str, float]:
        return {task_id: limit.cpu_timeout_s for task_id, limit in self.tasks.items()}


def machine_description() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": str(os.cpu_count() or 1),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


async def calibrate(
    benchmark: Benchmark,
    pool_config: PoolConfig,
    floor_s: float,
    factor: float = DEFAULT_FACTOR,
    task_ids: list[str] | None = None,
) -> Calibration:
    """Runs each task's reference solution ``REPEATS`` times and derives its CPU limit."""
    ids = task_ids or benchmark.default_task_ids()
    wall = pool_config.limits.timeout_s
    jobs = []
    for task_id in ids:
        task = benchmark.tasks[task_id]
        for repeat in range(REPEATS):
            job = benchmark.build_job(task, task.canonical_solution, f"{task_id}#{repeat}", wall)
            jobs.append(job.model_copy(update={"cpu_timeout_s": wall}))
    measured: dict[str, float] = {}
    async with SandboxPool(pool_config) as pool:
        image = pool.image_id or pool_config.image
        async for result in pool.map(jobs):
            task_id = result.id.rpartition("#")[0]
            if result.status != Status.PASSED:
                raise InputFileError(
                    f"cannot calibrate {task_id}: its reference solution did not pass "
                    f"({result.status.value}: {result.error})"
                )
            measured[task_id] = min(measured.get(task_id, result.cpu_s), result.cpu_s)
    return Calibration(
        benchmark=benchmark.name,
        rule=f"max({floor_s:g} s, {factor:g} x the reference solution's CPU time)",
        floor_s=floor_s,
        factor=factor,
        machine=machine_description(),
        image=image,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tasks={
            task_id: TaskLimit(
                reference_cpu_s=round(cpu, 4),
                cpu_timeout_s=round(max(floor_s, factor * cpu), 3),
            )
            for task_id, cpu in sorted(measured.items())
        },
    )


async def load_or_calibrate(
    path: Path, benchmark: Benchmark, pool_config: PoolConfig, floor_s: float
) -> Calibration:
    """The calibration in ``path`` if it exists (for this benchmark), else a new one, saved."""
    if path.exists():
        try:
            calibration = Calibration.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError, ValueError) as exc:
            raise InputFileError(
                f"{path} is not a calibration file ({str(exc).splitlines()[0]}): "
                "remove it to measure again"
            ) from None
        if calibration.benchmark != benchmark.name:
            raise InputFileError(
                f"{path} calibrates {calibration.benchmark}, not {benchmark.name}: "
                "give another --calibration path"
            )
        return calibration
    calibration = await calibrate(benchmark, pool_config, floor_s)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(calibration.model_dump(mode="json"), indent=1) + "\n")
    return calibration
