"""The run's plan: which topic, subtopic and difficulty slot ``i`` asks for, and its examples.

Stratified: slots are dealt in blocks of ``topics x difficulties`` cells, each block a fresh
permutation of all cells, so any prefix of the plan covers every cell within one problem of
even, and subtopics rotate within a topic in a seeded order. Everything about slot ``i`` is a
pure function of ``(taxonomy, seeds, run seed, i)``, so a resumed run asks for exactly what
the killed run would have asked for, without storing the plan.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cached_property

from problems.loader import SeedProblem
from problems.taxonomy import Difficulty, Taxonomy, Topic


@dataclass(frozen=True)
class SlotPlan:
    slot: int
    topic: Topic
    subtopic: str
    difficulty: Difficulty
    few_shot: tuple[SeedProblem, ...]
    seed: int  # sent with every LLM call for this slot

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
    ) -> None:
        self.taxonomy = taxonomy
        self.seeds = seeds
        self.run_seed = run_seed
        self.few_shot = min(few_shot, len(seeds))

    @cached_property
    def cells(self) -> tuple[tuple[Topic, Difficulty], ...]:
        return tuple(
            (topic, level) for topic in self.taxonomy.topics for level in self.taxonomy.difficulties
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
        # How often this topic came before: once per difficulty in every earlier block, plus
        # its earlier positions in this block. The subtopics rotate on that count.
        seen = block * len(self.taxonomy.difficulties) + sum(
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
        )

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
