"""The plan's optional axes: personas dealt like cells, weights, seed snippets once each, focus."""

from __future__ import annotations

from collections import Counter

import pytest

from problems import load_seeds, load_taxonomy
from problems.plan import SnippetsExhausted, StratifiedPlan
from problems.snippet import FocusExample, Snippet

PERSONAS = ("a bank's data team", "a game studio", "a hospital lab")


def snippets(n: int) -> tuple[Snippet, ...]:
    return tuple(
        Snippet(code=f"def f{i}():\n    pass\n", source=f"s#{i}", sha256=str(i), kind="function")
        for i in range(n)
    )


def test_without_axes_the_plan_is_the_plan_it_always_was():
    taxonomy, seeds = load_taxonomy(), load_seeds()
    plain = StratifiedPlan(taxonomy, seeds, run_seed=5)
    empty = StratifiedPlan(taxonomy, seeds, 5, weights={}, personas=(), snippets=(), focus={})
    for slot in range(40):
        assert plain[slot] == empty[slot]
        assert plain[slot].snippet is None and plain[slot].persona is None


def test_personas_are_dealt_evenly_in_every_prefix():
    plan = StratifiedPlan(load_taxonomy(), load_seeds(), 3, personas=PERSONAS)
    counts: Counter[str] = Counter()
    for slot in range(20):
        counts[plan[slot].persona] += 1
        assert max(counts[p] for p in PERSONAS) - min(counts[p] for p in PERSONAS) <= 1


def test_weights_repeat_cells_within_each_block():
    taxonomy = load_taxonomy()
    topic = taxonomy.topics[0].name
    plan = StratifiedPlan(taxonomy, load_seeds(), 3, weights={(topic, "hard"): 4})
    block = len(plan.cells)
    assert block == len(taxonomy.topics) * len(taxonomy.difficulties) + 3
    cells = Counter((plan[s].topic.name, plan[s].difficulty.value) for s in range(2 * block))
    assert cells[(topic, "hard")] == 8
    assert cells[(taxonomy.topics[1].name, "hard")] == 2


def test_each_snippet_once_then_a_clear_stop_unless_reused():
    pool = snippets(5)
    plan = StratifiedPlan(load_taxonomy(), load_seeds(), 3, snippets=pool)
    used = [plan[slot].snippet for slot in range(5)]
    assert sorted(s.sha256 for s in used) == sorted(s.sha256 for s in pool)
    assert StratifiedPlan(load_taxonomy(), load_seeds(), 3, snippets=pool)[2] == plan[2]
    with pytest.raises(SnippetsExhausted, match=r"all 5 seed snippets are used.*--seed-reuse"):
        plan[5]
    again = StratifiedPlan(load_taxonomy(), load_seeds(), 3, snippets=pool, reuse_snippets=True)
    assert again[7].snippet in pool


def test_focus_examples_come_from_the_slot_topic():
    taxonomy = load_taxonomy()
    topic = taxonomy.topics[0].name
    failed = tuple(FocusExample(id=f"cf-{i}", title=f"t{i}", description="d") for i in range(3))
    plan = StratifiedPlan(taxonomy, load_seeds(), 3, focus={topic: failed})
    for slot in range(len(plan.cells)):
        item = plan[slot]
        if item.topic.name == topic:
            assert len(item.focus) == 2 and set(item.focus) <= set(failed)
        else:
            assert item.focus == ()
