"""Stage ``problem``: the model proposes a problem statement for one slot of the plan."""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from factory.records import Stage, TokenUsage
from factory.stages.base import Asker, as_json
from problems import Difficulty
from problems.plan import SlotPlan

DIFFICULTY_GUIDE = {
    Difficulty.EASY: "easy: one clear idea, a solution of about 5 to 15 lines.",
    Difficulty.MEDIUM: (
        "medium: combines two ideas or needs care with edge cases, a solution of about 15 to "
        "40 lines."
    ),
    Difficulty.HARD: (
        "hard: needs an efficient algorithm or careful state handling, a solution of about 30 "
        "to 80 lines; state input sizes when efficiency matters."
    ),
}


class ProblemDraft(BaseModel):
    """The ``problem`` stage's reply."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="short and specific")
    description: str = Field(description="the complete statement")
    entry_point: str = Field(description="the function name")
    signature: str = Field(description="the def line with type hints")
    difficulty: Literal["easy", "medium", "hard"]
    topic: str

    @field_validator("title")
    @classmethod
    def _title(cls, title: str) -> str:
        title = " ".join(title.split())
        if not 3 <= len(title) <= 120:
            raise ValueError("must be 3 to 120 characters on one line")
        return title

    @field_validator("description")
    @classmethod
    def _description(cls, description: str) -> str:
        if len(description.strip()) < 40:
            raise ValueError("is too short to specify the behaviour completely")
        return description.strip()

    @field_validator("entry_point")
    @classmethod
    def _identifier(cls, name: str) -> str:
        name = name.strip()
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"{name!r} is not a valid Python function name")
        return name

    @model_validator(mode="after")
    def _signature_matches(self) -> ProblemDraft:
        signature = self.signature.strip().removesuffix("```").strip()
        if not signature.startswith(f"def {self.entry_point}("):
            raise ValueError(f'signature must start with "def {self.entry_point}("')
        self.signature = signature if signature.endswith(":") else signature + ":"
        return self


@dataclass(frozen=True)
class Problem:
    """A statement as the later stages see it, filed under the slot's topic and difficulty."""

    title: str
    description: str
    entry_point: str
    signature: str
    topic: str
    subtopic: str
    difficulty: Difficulty
    concepts: str = ""  # what the model named in the seed snippet first (concepts style)


class ConceptsDraft(BaseModel):
    """The reply naming the concepts of a seed snippet (SelfCodeAlign's first step)."""

    model_config = ConfigDict(extra="forbid")

    concepts: str = Field(description="a comma-separated list")

    @field_validator("concepts")
    @classmethod
    def _concepts(cls, concepts: str) -> str:
        concepts = " ".join(concepts.split())
        if not 3 <= len(concepts) <= 600:
            raise ValueError("must name a few concepts in at most 600 characters")
        return concepts


async def propose(
    asker: Asker,
    plan: SlotPlan,
    usage: TokenUsage,
    *,
    recent_titles: list[str],
    claim_title: Callable[[str], bool],
    seed_style: Literal["snippet", "concepts"] = "snippet",
) -> Problem:
    """Asks for a new problem for ``plan``'s cell; a title already produced is re-asked.

    ``claim_title`` reserves a title for this slot (False if it was produced before or is being
    worked on), so two concurrent slots never keep the same problem. A slot with a seed
    snippet shows it (``snippet``) or first asks for its concepts and shows those
    (``concepts``); a persona and failed problems of a focused run are shown too.
    """
    messages = asker.prompts.messages(
        "problem",
        difficulty=plan.difficulty.value,
        topic=plan.topic.name,
        subtopic=plan.subtopic,
        topic_description=f"({plan.topic.description})" if plan.topic.description else "",
        difficulty_guide=DIFFICULTY_GUIDE[plan.difficulty],
        examples="\n".join(as_json(seed.statement()) for seed in plan.few_shot) or "(none)",
        avoid_titles="\n".join(f"- {title}" for title in recent_titles) or "(none yet)",
    )
    concepts = ""
    if plan.snippet is not None and seed_style == "concepts":
        concepts = await _concepts(asker, plan, usage)
    messages += _steering(asker, plan, concepts)

    def new_title(draft: ProblemDraft) -> str | None:
        if claim_title(draft.title):
            return None
        return f'the title "{draft.title}" was already used: propose a different problem.'

    draft = await asker.ask(
        Stage.PROBLEM, messages, ProblemDraft, usage, seed=plan.seed, check=new_title
    )
    return Problem(
        title=draft.title,
        description=draft.description,
        entry_point=draft.entry_point,
        signature=draft.signature,
        topic=plan.topic.name,
        subtopic=plan.subtopic,
        difficulty=plan.difficulty,
        concepts=concepts,
    )


def _steering(asker: Asker, plan: SlotPlan, concepts: str) -> list[dict[str, str]]:
    """The messages a seed snippet, a persona or a focus adds to the problem request."""
    if asker.steer is None:
        return []
    steer, extra = asker.steer, []
    if plan.snippet is not None:
        extra += (
            steer.messages("seed_concepts", concepts=concepts)
            if concepts
            else steer.messages("seed_snippet", snippet=plan.snippet.code)
        )
    if plan.persona:
        extra += steer.messages("persona", persona=plan.persona)
    if plan.focus:
        examples = "\n".join(
            as_json({"title": example.title, "description": example.description})
            for example in plan.focus
        )
        extra += steer.messages("focus", examples=examples)
    return extra


async def _concepts(asker: Asker, plan: SlotPlan, usage: TokenUsage) -> str:
    assert asker.steer is not None and plan.snippet is not None
    messages = asker.steer.messages("seed_concepts_ask", snippet=plan.snippet.code)
    draft = await asker.ask(
        Stage.PROBLEM, messages, ConceptsDraft, usage, seed=plan.seed, schema_name="concepts"
    )
    return draft.concepts
