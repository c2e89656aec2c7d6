"""Stage ``solution``: the model writes a module that implements the problem."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from factory.records import Stage, TokenUsage
from factory.stages.base import Asker, CodeText
from factory.stages.propose import Problem


class SolutionDraft(BaseModel):
    """The ``solution`` stage's reply."""

    model_config = ConfigDict(extra="forbid")

    code: CodeText = Field(description="the complete Python module")


def problem_fields(problem: Problem) -> dict[str, str]:
    """The statement as every prompt shows it."""
    return {
        "title": problem.title,
        "description": problem.description,
        "signature": problem.signature,
        "entry_point": problem.entry_point,
    }


async def solve(asker: Asker, problem: Problem, usage: TokenUsage, *, seed: int | None) -> str:
    """The model's solution module (judged later by the sandbox, never here)."""

    def defines_entry_point(draft: SolutionDraft) -> str | None:
        if problem.entry_point not in draft.code:
            return f"the module does not define {problem.entry_point}."
        return None

    messages = asker.prompts.messages("solution", **problem_fields(problem))
    draft = await asker.ask(
        Stage.SOLUTION, messages, SolutionDraft, usage, seed=seed, check=defines_entry_point
    )
    return draft.code
