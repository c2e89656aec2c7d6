"""The stratified plan: even coverage of topic x difficulty, seeded, varied examples."""

from __future__ import annotations

from collections import Counter

import pytest

from problems import Taxonomy, load_seeds, load_taxonomy
from problems.plan import StratifiedPlan


@pytest.fixture
def plan() -> StratifiedPlan:
    return StratifiedPlan(load_taxonomy(), load_seeds(), run_seed=11)


def test_every_prefix_covers_the_cells_within_one(plan):
    cells = len(plan.cells)
    counts: Counter[tuple[str, str]] = Counter()
    for slot in range(3 * cells + 5):
        item = plan[slot]
        counts[(item.topic.name, item.difficulty.value)] += 1
        seen = [counts[(topic.name, level.value)] for topic, level in plan.cells]
        assert max(seen) - min(seen) <= 1, slot
    assert all(counts[(t.name, d.value)] >= 3 for t, d in plan.cells)


def test_subtopics_rotate_evenly_within_a_topic(plan):
    topic = plan.taxonomy.topics[0]
    per_topic = len(plan.taxonomy.difficulties)
    picks = [plan[slot].subtopic for slot in range(40 * len(plan.cells))]
    topics = [plan[slot].topic.name for slot in range(40 * len(plan.cells))]
    chosen = Counter(sub for sub, name in zip(picks, topics, strict=True) if name == topic.name)
    assert set(chosen) == set(topic.subtopics)
    assert max(chosen.values()) - min(chosen.values()) <= 1
    assert sum(chosen.values()) == 40 * per_topic


def test_the_plan_is_a_pure_function_of_the_seed(plan):
    again = StratifiedPlan(load_taxonomy(), load_seeds(), run_seed=11)
    other = StratifiedPlan(load_taxonomy(), load_seeds(), run_seed=12)
    order = [(plan[i].topic.name, plan[i].difficulty, plan[i].subtopic) for i in range(60)]
    assert order == [
        (again[i].topic.name, again[i].difficulty, again[i].subtopic) for i in range(60)
    ]
    assert order != [
        (other[i].topic.name, other[i].difficulty, other[i].subtopic) for i in range(60)
    ]
    assert [plan[i].seed for i in range(60)] == [again[i].seed for i in range(60)]
    assert len({plan[i].seed for i in range(500)}) == 500


def test_few_shot_examples_vary_and_prefer_the_same_topic(plan):
    chosen = [tuple(seed.id for seed in plan[slot].few_shot) for slot in range(100)]
    assert all(len(ids) == 2 and len(set(ids)) == 2 for ids in chosen)
    assert len(set(chosen)) > 20
    for slot in range(100):
        item = plan[slot]
        same_topic = [seed for seed in plan.seeds if seed.topic == item.topic.name]
        if same_topic:
            assert item.few_shot[0].topic == item.topic.name
            assert item.test_example is item.few_shot[0]


def test_a_user_taxonomy_with_two_difficulties():
    taxonomy = Taxonomy.model_validate(
        {
            "name": "small",
            "difficulties": ["easy", "hard"],
            "topics": [{"name": "a", "subtopics": ["x", "y"]}, {"name": "b", "subtopics": ["z"]}],
        }
    )
    plan = StratifiedPlan(taxonomy, load_seeds(), run_seed=0, few_shot=1)
    first_block = Counter((plan[i].topic.name, plan[i].difficulty.value) for i in range(4))
    assert first_block == Counter(
        {("a", "easy"): 1, ("a", "hard"): 1, ("b", "easy"): 1, ("b", "hard"): 1}
    )
    assert all(len(plan[i].few_shot) == 1 for i in range(10))
    with pytest.raises(IndexError):
        plan[-1]
