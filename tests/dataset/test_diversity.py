"""The diversity numbers on corpora whose answer is known: repeated, varied, paraphrased."""

from __future__ import annotations

import math

import pytest

from factory.dataset import diversity
from factory.dataset.code_cache import cached_forms
from factory.dataset.diversity import DiversityInput, distinct_n, entropy_bits
from factory.hygiene.normalise import normalised_code
from problems.taxonomy import load_taxonomy
from tests.conftest import IN_CI

SOLUTION = "def f(x):\n    return x + 1\n"


def _row(i: int, description: str, solution: str = SOLUTION, topic="math", difficulty="easy"):
    return DiversityInput(f"r{i}", description, solution, topic, difficulty)


def test_distinct_n_counts_repeats_across_the_corpus():
    assert distinct_n([["a", "b", "c"], ["a", "b", "d"]], 1) == 4 / 6
    assert distinct_n([["a", "b", "c"], ["a", "b", "d"]], 2) == 3 / 4
    assert distinct_n([["a"]], 2) == 0.0


def test_code_that_differs_only_in_names_counts_once():
    renamed = "def g(value):\n    # add one\n    return value + 1\n"
    other = "def h(items):\n    total = 0\n    for item in items:\n        total += item\n    return total\n"
    same = diversity.lexical([_row(0, "a b", SOLUTION), _row(1, "c d", renamed)])
    varied = diversity.lexical([_row(0, "a b", SOLUTION), _row(1, "c d", other)])
    assert same.code_distinct_5 == pytest.approx(0.5)
    assert varied.code_distinct_5 > same.code_distinct_5


def test_worker_processes_normalise_as_one_process_does(monkeypatch):
    sources = [
        f"def f{i}(a, b):\n    # note {i}\n    total = a * {i} + b\n    return total\n"
        for i in range(120)
    ] + ["def broken(:\n    pass\n", "x = 'open\n"]
    monkeypatch.setattr(diversity, "PARALLEL_ROWS", 40)  # 122 rows: two workers
    assert diversity.normalised_solutions(sources) == [normalised_code(s) for s in sources]


def test_a_repetitive_corpus_compresses_better_and_scores_lower():
    text = "Return the sum of the integers in the list."
    repeated = [_row(i, text) for i in range(50)]
    varied_words = [f"word{i} thing{i * 7} item{i * 13} value{i * 31}" for i in range(50)]
    varied = [_row(i, text) for i, text in enumerate(varied_words)]
    low, high = diversity.lexical(repeated), diversity.lexical(varied)
    assert low.compression_ratio > 3 * high.compression_ratio
    assert low.distinct_1 < 0.05 and high.distinct_1 == 1.0


def test_coverage_entropy_against_the_plan():
    taxonomy = load_taxonomy()
    cells = [(t.name, d.value) for t in taxonomy.topics for d in taxonomy.difficulties]
    one_cell = diversity.coverage([_row(i, "x", topic="math") for i in range(9)], taxonomy)
    assert one_cell.entropy_bits == 0.0 and one_cell.cells == 1
    spread = [
        _row(i, "x", topic=topic, difficulty=difficulty)
        for i, (topic, difficulty) in enumerate(cells)
    ]
    even = diversity.coverage(spread, taxonomy)
    assert even.entropy_bits == pytest.approx(math.log2(len(cells)))
    assert even.plan_cells == len(cells)
    assert even.ratio == pytest.approx(even.entropy_bits / even.plan_entropy_bits)
    assert entropy_bits([1, 1, 2]) == pytest.approx(1.5)


@pytest.fixture(scope="module")
def embedder():
    if diversity.semantic_available() and not IN_CI:  # CI installs the embed extra
        pytest.skip(diversity.semantic_available())
    return diversity.Embedder()


def test_semantic_names_paraphrases_and_benchmark_copies(embedder):
    rows = [
        _row(0, "Return the sum of all even numbers in a list of integers.", topic="math"),
        _row(1, "Return the sum of all the even numbers in a list of integers.", topic="math"),
        _row(2, "Check whether a string of brackets is balanced.", topic="strings"),
        _row(3, "Merge overlapping intervals and return them sorted.", topic="arrays"),
        _row(4, "Find the shortest path between two nodes of a weighted graph.", topic="graphs"),
    ]
    benchmark = [
        ("humaneval:HumanEval/X", "Check whether a string of brackets is balanced."),
        ("humaneval:HumanEval/Y", "Compute the factorial of n."),
    ]
    result = diversity.semantic(rows, benchmark, embedder)
    assert [(d.id, d.neighbour) for d in result.near_duplicates] == [("r1", "r0")]
    assert result.near_duplicates[0].cosine >= 0.95
    assert [(m.id, m.neighbour) for m in result.benchmark_matches] == [
        ("r2", "humaneval:HumanEval/X")
    ]
    assert 0.0 < result.mean_nn_distance < 1.0
    assert result.clusters == 4  # the paraphrase joins its original's cluster
    assert [topic for _, _, topic in result.map_2d] == [row.topic for row in rows]
    repeated = diversity.semantic([_row(i, rows[0].description) for i in range(3)], (), embedder)
    assert repeated.mean_nn_distance == pytest.approx(0.0, abs=1e-5)
    assert repeated.clusters == 1


def test_measure_says_why_semantic_is_missing():
    result = diversity.measure([_row(0, "a b c")], None, with_semantic=False)
    assert result.semantic is None and result.semantic_skipped == "not asked for"
    assert result.coverage is None and result.lexical.distinct_1 == 1.0


def test_normalised_code_is_read_back_from_the_dataset_cache(tmp_path):
    calls: list[list[str]] = []

    def counting(sources):
        calls.append(list(sources))
        return [normalised_code(s) for s in sources]

    sources = [SOLUTION, "def g(v):\n    return v * 2\n", SOLUTION]
    first = cached_forms(sources, tmp_path, counting)
    assert first == [normalised_code(s) for s in sources] and calls == [sources[:2]]
    assert cached_forms(sources, tmp_path, counting) == first and len(calls) == 1
    # another normaliser (its source or the Python version changed) normalises again
    assert cached_forms(sources, tmp_path, counting, key="other") == first and len(calls) == 2
    rows = [_row(i, "a b", s) for i, s in enumerate(sources)]
    assert diversity.lexical(rows, tmp_path) == diversity.lexical(rows)
