"""MinHash estimates Jaccard similarity without bias; LSH meets pairs at the threshold; the
signatures and the index's answers are the same in every process, so a resumed run drops what
an uninterrupted one would have."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from factory.hygiene.minhash import (
    IMPLEMENTATION,
    LSHIndex,
    MinHasher,
    lsh_bands,
    shingles,
    similarity,
)


def test_estimates_track_the_true_jaccard_similarity():
    hasher = MinHasher(num_perm=256)
    errors = []
    for shift in range(0, 40, 4):
        first = {f"s{i}" for i in range(40)}
        second = {f"s{i}" for i in range(shift, 40 + shift)}
        true = len(first & second) / len(first | second)
        errors.append(similarity(hasher.signature(first), hasher.signature(second)) - true)
    assert abs(np.mean(errors)) < 0.03
    assert max(abs(e) for e in errors) < 0.12


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.85, 0.95])
def test_bands_meet_a_pair_at_the_threshold_at_least_95_percent_of_the_time(threshold):
    bands, rows = lsh_bands(threshold, 128)
    assert bands * rows == 128
    assert 1 - (1 - threshold**rows) ** bands >= 0.95


def test_the_index_returns_the_closest_stored_key_above_the_threshold():
    hasher = MinHasher()
    index = LSHIndex(0.8, hasher.num_perm)
    base = [f"w{i}" for i in range(60)]
    index.insert("far", hasher.signature(shingles([f"z{i}" for i in range(60)], 3)))
    index.insert("near", hasher.signature(shingles(base, 3)))
    found = index.nearest(hasher.signature(shingles([*base[:59], "changed"], 3)))
    assert found is not None and found[0] == "near" and found[1] >= 0.8
    assert index.nearest(hasher.signature(shingles([f"q{i}" for i in range(60)], 3))) is None


def test_among_equally_similar_rows_the_first_stored_is_named():
    hasher = MinHasher()
    index = LSHIndex(0.85, hasher.num_perm)
    words = [f"w{i}" for i in range(50)]
    for key in ("first", "second", "third"):
        index.insert(key, hasher.signature(shingles(words, 3)))
    assert index.nearest(hasher.signature(shingles(words, 3))) == ("first", 1.0)
    assert len(index) == 3


def test_an_empty_set_has_a_signature_matching_nothing_real():
    hasher = MinHasher()
    assert similarity(hasher.signature([]), hasher.signature(["a"])) == 0.0


def test_the_implementation_is_named_with_its_release():
    assert IMPLEMENTATION.startswith("rensa 0.5.0 RMinHash v")


# The run below, split at HALF: the first part here, the second in another process (another
# PYTHONHASHSEED) with an index rebuilt from the rows the first part kept.
RUN = """
import json, sys
from factory.hygiene.minhash import LSHIndex, MinHasher, shingles

def run(rows, start, stop, kept_before=()):
    hasher, index = MinHasher(), LSHIndex(0.85, 128)
    for i in kept_before:
        index.insert(i, hasher.signature(shingles(rows[i], 3)))
    kept, dropped = [], []
    for i in range(start, stop):
        signature = hasher.signature(shingles(rows[i], 3))
        match = index.nearest(signature)
        if match is None:
            index.insert(i, signature)
            kept.append(i)
        else:
            dropped.append([i, match[0], match[1]])
    return kept, dropped, [hasher.signature(shingles(row, 3)).digest() for row in rows[:3]]
"""


def planted_rows(count: int, seed: int) -> list[list[str]]:
    """Word sequences, a fifth of them copies of an earlier one with one or two words changed."""
    rng = random.Random(seed)
    rows: list[list[str]] = []
    for _ in range(count):
        if rows and rng.random() < 0.2:
            row = list(rng.choice(rows))
            for _ in range(rng.randint(1, 2)):
                row[rng.randrange(len(row))] = f"x{rng.randrange(10_000)}"
        else:
            row = [f"w{rng.randrange(5_000)}" for _ in range(rng.randint(80, 120))]
        rows.append(row)
    return rows


def test_a_run_resumed_in_another_process_drops_the_same_rows():
    rows, half = planted_rows(400, seed=3), 200
    namespace: dict = {}
    exec(RUN, namespace)
    _, dropped, digests = namespace["run"](rows, 0, len(rows))
    kept_first, dropped_first, _ = namespace["run"](rows, 0, half)
    script = RUN + (
        "rows, half, kept = json.loads(sys.stdin.read())\n"
        "print(json.dumps(run(rows, half, len(rows), kept)))\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps([rows, half, kept_first]),
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "4321"},
    )
    _, dropped_second, digests_there = json.loads(other.stdout)
    assert digests_there == digests
    assert len(dropped) > 50  # most of the ~80 planted copies are there to be found
    assert dropped_first + dropped_second == dropped
