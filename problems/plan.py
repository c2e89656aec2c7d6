"""The run's plan: which topic, subtopic and difficulty slot ``i`` asks for, and its examples.

Stratified: slots are dealt in blocks of ``topics x difficulties`` cells, each block a fresh
permutation of all cells, so any prefix of the plan covers every cell within one problem of
even, and subtopics rotate within a topic in a seeded order. Everything about slot ``i`` is a
pure function of ``(taxonomy, seeds, run seed, i)``, so a resumed run asks for exactly what
the killed run would have asked for, without storing the plan.

Optional axes, each off by default (the plan is then the same as without them):

- ``weights``: a (topic, difficulty) cell of weight w appears w times in each block, so a
  focused run asks more often for what an evaluated model failed, still stratified;
- ``personas``: an audience per slot, dealt like the cells (blocks of fresh permutations);
- ``snippets``: a seed snippet per slot, from a seeded permutation of the pool; each is used
  once (a slot past the pool raises :class:`SnippetsExhausted`) unless ``reuse_snippets``,
  and because slot ``i`` always gets the same one, a resumed run uses the unused ones;
- ``focus``: failed problems per topic, shown as examples.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cached_property

from factory.errors import FactoryError
from problems.loader import SeedProblem
from problems.snippet import FocusExample, Snippet
from problems.taxonomy import Difficulty, Taxonomy, Topic

FOCUS_EXAMPLES = 2


class SnippetsExhausted(FactoryError):
    """Every seed snippet has been used once and reuse is off."""


@dataclass(frozen=True)
class SlotPlan:
    slot: int
    topic: Topic
    subtopic: str
    difficulty: Difficulty
    few_shot: tuple[SeedProblem, ...]
    seed: int  # sent with every LLM call for this slot
    snippet: Snippet | None = None
    persona: str | None = None
    focus: tuple[FocusExample, ...] = ()

    @property
    def test_example(self) -> SeedProblem | None:
        """The seed whose tests show the tests stage the expected style."""
        return self.few_shot[0] if self.few_shot else None


class StratifiedPlan:
    def __init__(
        self,
        taxonomy: Taxonomy,
        seeds: tuple[SeedProblem, ...],
        run_seed: int,
        few_shot: int = 2,
        *,
        weights: dict[tuple[str, str], int] | None = None,
        personas: tuple[str, ...] = (),
        snippets: tuple[Snippet, ...] = (),
        reuse_snippets: bool = False,
        focus: dict[str, tuple[FocusExample, ...]] | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.seeds = seeds
        self.run_seed = run_seed
        self.few_shot = min(few_shot, len(seeds))
        self.weights = weights or {}
        self.personas = personas
        self.snippets = snippets
        self.reuse_snippets = reuse_snippets
        self.focus = focus or {}

    @cached_property
    def cells(self) -> tuple[tuple[Topic, Difficulty], ...]:
        return tuple(
            (topic, level)
            for topic in self.taxonomy.topics
            for level in self.taxonomy.difficulties
            for _ in range(self.weights.get((topic.name, level.value), 1))
        )

    def _rng(self, *parts: object) -> random.Random:
        return random.Random("/".join(str(part) for part in (self.run_seed, *parts)))

    def _block(self, block: int) -> list[tuple[Topic, Difficulty]]:
        cells = list(self.cells)
        self._rng("cells", block).shuffle(cells)
        return cells

    def _subtopic_order(self, topic: Topic) -> list[str]:
        order = list(topic.subtopics)
        self._rng("subtopics", topic.name).shuffle(order)
        return order

    def __getitem__(self, slot: int) -> SlotPlan:
        if slot < 0:
            raise IndexError(slot)
        block, position = divmod(slot, len(self.cells))
        permutation = self._block(block)
        topic, difficulty = permutation[position]
        # How often this topic came before: once per cell of it in every earlier block, plus
        # its earlier positions in this block. The subtopics rotate on that count.
        per_block = sum(1 for cell, _ in self.cells if cell.name == topic.name)
        seen = block * per_block + sum(
            1 for earlier, _ in permutation[:position] if earlier.name == topic.name
        )
        order = self._subtopic_order(topic)
        return SlotPlan(
            slot=slot,
            topic=topic,
            subtopic=order[seen % len(order)],
            difficulty=difficulty,
            few_shot=self._examples(slot, topic),
            seed=int.from_bytes(
                hashlib.sha256(f"{self.run_seed}/{slot}".encode()).digest()[:4], "big"
            )
            >> 1,
            snippet=self._snippet(slot),
            persona=self._persona(slot),
            focus=self._focus(slot, topic),
        )

    def _persona(self, slot: int) -> str | None:
        if not self.personas:
            return None
        block, position = divmod(slot, len(self.personas))
        order = list(self.personas)
        self._rng("personas", block).shuffle(order)
        return order[position]

    def _snippet(self, slot: int) -> Snippet | None:
        if not self.snippets:
            return None
        block, position = divmod(slot, len(self.snippets))
        if block and not self.reuse_snippets:
            raise SnippetsExhausted(
                f"all {len(self.snippets)} seed snippets are used: add --seed-code sources "
                "or pass --seed-reuse"
            )
        order = list(self.snippets)
        self._rng("snippets", block).shuffle(order)
        return order[position]

    def _focus(self, slot: int, topic: Topic) -> tuple[FocusExample, ...]:
        failed = self.focus.get(topic.name) or ()
        if not failed:
            return ()
        rng = self._rng("focus", slot)
        return tuple(rng.sample(list(failed), min(FOCUS_EXAMPLES, len(failed))))

    def _examples(self, slot: int, topic: Topic) -> tuple[SeedProblem, ...]:
        """Few-shot seeds for a slot: one on the same topic when there is one, the rest drawn
        from the others, all varying from slot to slot."""
        if not self.few_shot:
            return ()
        rng = self._rng("few-shot", slot)
        same = [seed for seed in self.seeds if seed.topic == topic.name]
        chosen = [rng.choice(same)] if same else []
        others = [seed for seed in self.seeds if seed not in chosen]
        chosen += rng.sample(others, self.few_shot - len(chosen))
        return tuple(chosen)
