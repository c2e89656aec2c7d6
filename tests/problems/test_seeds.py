"""The seed problems shown to the model are themselves verified, in the real sandbox."""

from __future__ import annotations

import pytest

from problems import load_seeds, load_taxonomy
from sandbox import Job, Status

pytestmark = pytest.mark.docker


def test_seeds_cover_topics_of_the_default_taxonomy_and_every_difficulty():
    seeds = load_seeds()
    assert len(seeds) >= 6
    topics = {topic.name for topic in load_taxonomy().topics}
    assert {seed.topic for seed in seeds} <= topics
    assert {seed.difficulty.value for seed in seeds} == {"easy", "medium", "hard"}
    for seed in seeds:
        assert seed.subtopic in load_taxonomy().topic(seed.topic).subtopics


def test_every_seed_solution_passes_its_tests(sandbox_pool):
    seeds = load_seeds()
    results = sandbox_pool.run_many(
        [Job(id=seed.id, solution=seed.solution, tests=seed.tests) for seed in seeds]
    )
    for seed, result in zip(seeds, results, strict=True):
        assert result.status == Status.PASSED, (seed.id, result.feedback())
        assert result.n_tests >= 4, seed.id


def test_every_seed_test_file_rejects_a_solution_that_does_nothing(sandbox_pool):
    seeds = load_seeds()
    hollow = "def {name}(*args, **kwargs):\n    return None\n"
    results = sandbox_pool.run_many(
        [
            Job(id=seed.id, solution=hollow.format(name=seed.entry_point), tests=seed.tests)
            for seed in seeds
        ]
    )
    for seed, result in zip(seeds, results, strict=True):
        assert result.status == Status.FAILED, seed.id
        assert result.n_passed <= result.n_tests // 2, seed.id
