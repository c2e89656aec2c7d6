"""MinHash estimates Jaccard similarity without bias; LSH meets pairs at the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from factory.hygiene.minhash import LSHIndex, MinHasher, lsh_bands, shingles, similarity


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
    assert bands * rows <= 128
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


def test_an_empty_set_has_a_signature_matching_nothing_real():
    hasher = MinHasher()
    assert similarity(hasher.signature([]), hasher.signature(["a"])) == 0.0
