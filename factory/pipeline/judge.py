"""The judge: a model that rates an accepted problem on a written rubric, 1 to 5 with a reason.

It runs after the sandbox and the gates said yes, so it is paid only for problems that are
otherwise good, and it looks at what execution cannot check: is the statement clear,
complete, unambiguous, consistent with the tests, worth learning from. The reply comes
through structured outputs (``json_schema`` named ``judge``); a reply that is not a rating is
re-asked like any stage's. The judge may be another model at another endpoint
(``--judge-model``, ``--judge-base-url``); its cost is kept on the row's score, apart from the
generation's own usage.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from factory.prompts import PromptSet
from factory.records import JudgeScore, Stage, TokenUsage
from factory.stages.base import Asker, StageFailed
from factory.stages.propose import Problem

JUDGE_TEMPERATURE = 0.0
JUDGE_MAX_TOKENS = 512


class JudgeDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: Literal["1", "2", "3", "4", "5"] = Field(description="1 (unusable) to 5 (excellent)")
    reason: str = Field(description="one or two sentences")

    @field_validator("score", mode="before")
    @classmethod
    def _score(cls, score: object) -> object:
        return str(score).strip() if isinstance(score, int | str) else score

    @field_validator("reason")
    @classmethod
    def _reason(cls, reason: str) -> str:
        reason = " ".join(reason.split())
        if not reason:
            raise ValueError("must say why")
        return reason[:500]


class JudgeRater:
    """Callable on (problem, solution, tests): the judge's score, or None if it gave none."""

    def __init__(self, llm, model: str, prompts: PromptSet, *, max_reasks: int = 2) -> None:
        self.model = model
        self.asker = Asker(
            llm=llm,
            prompts=prompts,
            temperature=JUDGE_TEMPERATURE,
            max_tokens=JUDGE_MAX_TOKENS,
            max_reasks=max_reasks,
            steer=prompts,
        )

    async def __call__(self, problem: Problem, solution: str, tests: str) -> JudgeScore | None:
        messages = self.asker.prompts.messages(
            "judge",
            title=problem.title,
            description=problem.description,
            signature=problem.signature,
            solution=solution,
            tests=tests,
        )
        usage = TokenUsage()
        try:
            draft = await self.asker.ask(
                Stage.PROBLEM, messages, JudgeDraft, usage, seed=0, schema_name="judge"
            )
        except StageFailed:
            return None
        return JudgeScore(
            model=self.model, score=int(draft.score), reason=draft.reason, usage=usage
        )
