"""Stage ``evolve``: the model rewrites an accepted problem into a harder variant (Evol-Instruct).

One operator per variant, each a kind of change WizardCoder found to make code problems
harder. The variant then goes through the same solve, tests, sandbox, repair and gates as any
problem; whether it is measurably harder is decided afterwards, by execution
(``factory.pipeline.evolve``).
"""

from __future__ import annotations

from collections.abc import Callable

from factory.records import Stage, TokenUsage
from factory.stages.base import Asker
from factory.stages.propose import Problem, ProblemDraft
from problems import Difficulty

OPERATORS = {
    "constraint": "add one new constraint or requirement that changes what a correct "
    "solution must compute.",
    "rarer": "replace a common requirement of the problem with a less common and more "
    "specific one.",
    "reasoning": "require more reasoning steps: the answer must combine several intermediate "
    "results that the original did not need.",
    "complexity": "require a better time or space complexity than the obvious solution, and "
    "state input sizes that make a naive solution too slow.",
    "widen": "widen the input domain: more kinds of input, edge cases or value ranges the "
    "function must handle, each with its exact expected behaviour.",
}


async def evolve(
    asker: Asker,
    parent: Problem,
    operator: str,
    usage: TokenUsage,
    *,
    seed: int,
    claim_title: Callable[[str], bool],
) -> Problem:
    """A harder variant of ``parent`` made with ``operator``; a title already used is re-asked."""
    assert asker.steer is not None
    messages = asker.steer.messages(
        "evolve",
        operator=OPERATORS[operator],
        title=parent.title,
        topic=parent.topic,
        description=parent.description,
        signature=parent.signature,
    )

    def new_title(draft: ProblemDraft) -> str | None:
        if claim_title(draft.title):
            return None
        return f'the title "{draft.title}" was already used: give the variant another title.'

    draft = await asker.ask(
        Stage.PROBLEM, messages, ProblemDraft, usage, seed=seed, check=new_title,
        schema_name="evolve",
    )  # fmt: skip
    return Problem(
        title=draft.title,
        description=draft.description,
        entry_point=draft.entry_point,
        signature=draft.signature,
        topic=parent.topic,
        subtopic=parent.subtopic,
        difficulty=Difficulty(draft.difficulty),
    )
