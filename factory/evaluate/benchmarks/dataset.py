"""A dataset codefactory built, used as a benchmark: each row's own tests judge a sample.

The dataset is a directory written by ``datasets.save_to_disk``: the ``DatasetDict`` that
``codefactory generate`` exports (rows are :class:`factory.records.ProblemRecord`; its ``train``
split holds the verified problems and is the one used), or a single ``Dataset``. The
evaluation needs only these columns, so other datasets shaped the same way work too:

- ``id`` (str): the task id samples refer to;
- ``solution`` (str): the verified reference solution, saved as ``solution.py``;
- ``tests`` (str): a pytest file that imports from ``solution`` (saved as ``test_solution.py``);

and uses these when present: ``description`` and ``signature`` (the model's prompt),
``entry_point`` (the function the tests call), ``title``. Samples are full solutions (a
``completion`` is taken as the whole solution too). The row's accepted tests are the
benchmark, so they are trusted: pytest runs them in the judge of a trusted-mode job, the
sample's functions called in its own process (see :mod:`trusted_exec`); a sample passes only
if every test of the row runs and passes. How outputs are compared is in the row's tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from factory.errors import InputFileError
from factory.evaluate.benchmarks.base import SYSTEM_PROMPT, Benchmark, Task
from factory.evaluate.benchmarks.trusted_exec import imported_from_solution, pytest_job
from sandbox import Job

REQUIRED_COLUMNS = ("id", "solution", "tests")


class DatasetBenchmark(Benchmark):
    name = "dataset"

    @classmethod
    def load(cls, path: Path) -> DatasetBenchmark:
        rows = _load_rows(path)
        missing = [column for column in REQUIRED_COLUMNS if column not in rows.column_names]
        if missing:
            raise InputFileError(
                f"dataset {path} lacks column(s) {missing}; an evaluation needs "
                f"{', '.join(REQUIRED_COLUMNS)} (a dataset written by codefactory has them)"
            )
        tasks: list[Task] = []
        seen: set[str] = set()
        for index, row in enumerate(rows):
            task_id = str(row["id"])
            if task_id in seen:
                raise InputFileError(f"dataset {path}: duplicate id {task_id!r} (row {index})")
            seen.add(task_id)
            tasks.append(task_for_row(row))
        if not tasks:
            raise InputFileError(f"dataset {path} has no rows")
        return cls(tasks)

    def normalize_task_id(self, raw: Any) -> str | None:
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            return None
        return str(raw) if str(raw) in self.tasks else None

    def build_job(self, task: Task, solution: str, job_id: str, timeout_s: float) -> Job:
        """The row's accepted tests, trusted, run by pytest in the judge of a trusted-mode job
        (``from solution import f`` gives a proxy of the sample's ``f``); a row whose tests use
        more of the solution than its functions (a class, a constant) runs in pytest mode,
        tests and sample in one process."""
        if task.entry_points:
            return pytest_job(job_id, solution, task.tests, task.entry_points, timeout_s)
        return Job(
            id=job_id, solution=solution, tests=task.tests, mode="pytest", timeout_s=timeout_s
        )

    def messages(self, task: Task) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": task.prompt},
        ]


def task_for_row(row: dict[str, Any]) -> Task:
    """The task of one row (``id``, ``solution``, ``tests``; ``entry_point`` and the prompt's
    fields when present): what ``eval dataset``, ``label`` and the RL reward all judge with."""
    solution, entry_point = row.get("solution") or "", row.get("entry_point") or None
    # Without a reference (an RL row), the tests may take only the entry point from solution.
    reference = solution or (f"def {entry_point}():\n    pass\n" if entry_point else "")
    return Task(
        task_id=str(row["id"]),
        prompt=row_prompt(row),
        canonical_solution=solution,
        tests=row["tests"],
        entry_point=entry_point,
        entry_points=imported_from_solution(row["tests"], reference) or [],
    )


def _load_rows(path: Path):
    if not path.is_dir():
        raise InputFileError(f"dataset directory not found: {path}")
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as exc:
        raise InputFileError(
            f"{path} is not a dataset saved with save_to_disk ({exc}); "
            "give the directory codefactory wrote"
        ) from None
    if isinstance(loaded, datasets.DatasetDict):
        if "train" in loaded:
            return loaded["train"]
        if len(loaded) == 1:
            return next(iter(loaded.values()))
        raise InputFileError(
            f"dataset {path} has splits {sorted(loaded)} but no 'train' split to evaluate"
        )
    return loaded


def row_prompt(row: dict[str, Any]) -> str:
    """A row's problem as our prompts present it: the statement, the signature, the module."""
    parts = [str(row.get("description") or row.get("title") or "").strip()]
    if row.get("signature"):
        parts.append(f"Implement it with this signature:\n\n```python\n{row['signature']}\n```")
    if row.get("entry_point"):
        parts.append(
            f"Write a Python module that defines `{row['entry_point']}`; "
            "tests will import it from the module."
        )
    return "\n\n".join(part for part in parts if part)
