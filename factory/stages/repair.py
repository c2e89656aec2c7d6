"""Stage ``repair``: shown the failure, the model decides which side is wrong and rewrites it.

The request carries the statement, the current solution and tests, the sandbox's failure
report (failing tests, assertion messages, traceback excerpts, or the timeout / out-of-memory
verdict), and a line per earlier repair of this problem so the model does not go in circles.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from factory.records import Attempt, Side, Stage, TokenUsage
from factory.stages.base import Asker, CodeText
from factory.stages.propose import Problem
from factory.stages.solve import problem_fields
from factory.stages.write_tests import tests_problem


class RepairDraft(BaseModel):
    """The ``repair`` stage's reply."""

    model_config = ConfigDict(extra="forbid")

    target: Side
    code: CodeText = Field(description="the complete new file for the target side")
    explanation: str = Field(description="what was wrong, in one or two sentences")


def history(attempts: Sequence[Attempt]) -> str:
    """Earlier repairs of this problem and how they ended, one line each."""
    lines = [
        f"- repair {attempt.index} rewrote the {attempt.repair_target} "
        f"({attempt.explanation.strip()[:200] or 'no explanation'}); result: "
        f"{attempt.verdict.status.value}"
        for attempt in attempts
        if attempt.origin == "repair"
    ]
    return "\nEarlier repairs of this problem:\n" + "\n".join(lines) if lines else ""


async def repair(
    asker: Asker,
    problem: Problem,
    solution: str,
    tests: str,
    feedback: str,
    attempts: Sequence[Attempt],
    usage: TokenUsage,
    *,
    seed: int | None,
    target: Side | None = None,
) -> RepairDraft:
    """The model's verdict on which side is wrong, with that side rewritten.

    ``target`` forces the side, when the failure leaves no doubt (a quality gate found the
    tests too weak while the solution passes them): a draft for the other side is re-asked.
    """

    def usable(draft: RepairDraft) -> str | None:
        if target is not None and draft.target != target:
            return (
                f'this repair must rewrite the {target}: set "target" to "{target}" and put '
                f'the complete new {target} file in "code".'
            )
        if draft.target == "tests":
            return tests_problem(draft.code, problem.entry_point)
        if problem.entry_point not in draft.code:
            return f"the new solution does not define {problem.entry_point}."
        return None

    messages = asker.prompts.messages(
        "repair",
        **problem_fields(problem),
        solution=solution.rstrip(),
        tests=tests.rstrip(),
        feedback=feedback,
        history=history(attempts),
    )
    return await asker.ask(Stage.REPAIR, messages, RepairDraft, usage, seed=seed, check=usable)
