"""Stage ``tests``: the model writes a pytest file from the statement alone.

The request carries the problem and an example of test style from a seed problem, never the
solution: solution and tests are independent witnesses, and a pass means they agree.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from factory.records import Stage, TokenUsage
from factory.stages.base import Asker, CodeText
from factory.stages.propose import Problem
from factory.stages.solve import problem_fields
from problems import SeedProblem


class TestsDraft(BaseModel):
    """The ``tests`` stage's reply."""

    __test__ = False  # not a pytest class
    model_config = ConfigDict(extra="forbid")

    code: CodeText = Field(description="the complete pytest file")


def tests_problem(code: str, entry_point: str) -> str | None:
    """Why ``code`` is not a usable test file for ``entry_point`` (None if it is)."""
    if "from solution import" not in code or entry_point not in code:
        return f"the file must do `from solution import {entry_point}`."
    if "def test" not in code:
        return "the file defines no test functions (def test_...)."
    return None


async def write_tests(
    asker: Asker,
    problem: Problem,
    usage: TokenUsage,
    *,
    example: SeedProblem | None,
    seed: int | None,
) -> str:
    """The model's pytest file for ``problem``."""
    messages = asker.prompts.messages(
        "tests",
        **problem_fields(problem),
        example_title=example.title if example else "none",
        example_tests=f"```python\n{example.tests}```" if example else "(none)",
    )
    draft = await asker.ask(
        Stage.TESTS,
        messages,
        TestsDraft,
        usage,
        seed=seed,
        check=lambda draft: tests_problem(draft.code, problem.entry_point),
    )
    return draft.code
