"""Focus: weight the plan toward what an evaluated model failed (the refinement loop).

Input: the results of ``codefactory eval dataset`` (a ``*_results.jsonl``) or of ``eval model``
on a codefactory dataset (its ``--out`` directory, or the ``results.jsonl`` in it), and the
dataset they were computed on. Every task id of the results must be a row of that dataset:
a results file of another dataset is refused rather than silently read as "no failures".

Each (topic, difficulty) cell's weight is ``1 + round(FOCUS_SCALE * failure rate)`` (samples
that failed over samples scored, sandbox errors left out), so a cell the model always fails
comes up ``1 + FOCUS_SCALE`` times as often as one it always solves; cells with no results
keep weight 1. The failed problems of a topic are the few-shot examples of its slots.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from factory.dataset.rows import dataset_rows
from factory.errors import InputFileError
from factory.records import Split
from problems.snippet import FocusExample

FOCUS_SCALE = 3
RESULTS_FILE = "results.jsonl"  # inside an ``eval model --out`` directory


@dataclass(frozen=True)
class Focus:
    weights: dict[tuple[str, str], int]  # (topic, difficulty) -> weight, cells with results
    failure_rates: dict[tuple[str, str], float]
    examples: dict[str, tuple[FocusExample, ...]]  # topic -> failed problems
    results: str  # the results file's name, for the fingerprint
    failed_tasks: int
    tasks: int

    def weight_table(self) -> dict[str, int]:
        """``topic/difficulty -> weight``: what the run prints and its fingerprint keeps."""
        return {f"{topic}/{level}": w for (topic, level), w in sorted(self.weights.items())}


def load_focus(results: Path, dataset: Path) -> Focus:
    path = results / RESULTS_FILE if results.is_dir() else results
    if not path.is_file():
        raise InputFileError(
            f"--focus {results} not found: give the results JSONL of `codefactory eval dataset` "
            "or the --out directory of `eval model`"
        )
    outcomes = _outcomes(path)
    if not outcomes:
        raise InputFileError(f"--focus {results} holds no scored sample")
    rows = _train_rows(dataset)
    unknown = sorted(set(outcomes) - set(rows))
    if unknown:
        raise InputFileError(
            f"--focus {results}: {len(unknown)} of its {len(outcomes)} tasks (first "
            f"{unknown[0]!r}) are not rows of {dataset}: these are results of another dataset "
            "(give the dataset they were computed on with --focus-dataset)"
        )
    failed: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    examples: dict[str, list[FocusExample]] = defaultdict(list)
    failed_tasks = 0
    for task_id, (n_failed, n_scored) in sorted(outcomes.items()):
        topic, level, title, description = rows[task_id]
        tally = failed[(topic, level)]
        tally[0] += n_failed
        tally[1] += n_scored
        if n_failed:
            failed_tasks += 1
            examples[topic].append(FocusExample(id=task_id, title=title, description=description))
    rates = {cell: n / total for cell, (n, total) in failed.items() if total}
    return Focus(
        weights={cell: 1 + round(FOCUS_SCALE * rate) for cell, rate in rates.items()},
        failure_rates=rates,
        examples={topic: tuple(items) for topic, items in examples.items()},
        results=path.name,
        failed_tasks=failed_tasks,
        tasks=len(outcomes),
    )


def _outcomes(path: Path) -> dict[str, tuple[int, int]]:
    """task id -> (samples failed, samples scored); sandbox errors are not scored."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                sample = json.loads(line)
                task_id, passed, status = sample["task_id"], sample["passed"], sample["status"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise InputFileError(
                    f"{path}:{number}: not a result line of `codefactory eval` (task_id, "
                    "passed, status)"
                ) from None
            if status == "sandbox_error":
                continue
            tally[str(task_id)][0] += 0 if passed else 1
            tally[str(task_id)][1] += 1
    return {task: (n_failed, n_scored) for task, (n_failed, n_scored) in tally.items()}


def _train_rows(dataset: Path) -> dict[str, tuple[str, str, str, str]]:
    if not dataset.is_dir():
        raise InputFileError(
            f"--focus-dataset {dataset} not found: give the dataset the results were computed on"
        )
    with dataset_rows(dataset) as rows:
        return {
            row.id: (row.topic, row.difficulty.value, row.title, row.description)
            for row in rows.records
            if row.split == Split.TRAIN
        }
