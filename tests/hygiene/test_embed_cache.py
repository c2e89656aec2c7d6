"""The embedding cache beside a dataset: a text is embedded once per embedder, another model or
precision never reads the vectors of the first, and an unwritable directory only costs time."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from factory.hygiene.embed import embed_missing
from factory.hygiene.embed_cache import CachedEmbedder
from tests.conftest import IN_CI


class CountingEmbedder:
    """Vectors derived from the text and the model key; records every text it embeds."""

    def __init__(self, key: str = "model-a fp32") -> None:
        self.name, self.precision = key.split()
        self.key = key
        self.embedded: list[str] = []

    def encode(self, texts):
        self.embedded += texts
        rows = []
        for text in texts:
            seed = hashlib.sha256((self.key + text).encode()).digest()
            vector = np.frombuffer(seed, dtype=np.uint8)[:8].astype(np.float32) + 1
            rows.append(vector / np.linalg.norm(vector))
        return np.array(rows, dtype=np.float32)


TEXTS = ["Sum the even numbers.", "Reverse a string.", "Sum the even numbers."]


def test_a_second_pass_embeds_nothing_and_returns_the_same_vectors(tmp_path):
    model = CountingEmbedder()
    first = CachedEmbedder(model, tmp_path)
    cold = first.encode(TEXTS)
    assert model.embedded == TEXTS[:2]  # the repeated text is embedded once
    assert (first.hits, first.misses) == (0, 2)
    np.testing.assert_array_equal(cold, model.encode(TEXTS))

    model.embedded.clear()
    second = CachedEmbedder(model, tmp_path)
    warm = second.encode(TEXTS)
    assert model.embedded == [] and (second.hits, second.misses) == (3, 0)
    np.testing.assert_array_equal(warm, cold)


def test_only_new_or_changed_texts_are_embedded(tmp_path):
    model = CountingEmbedder()
    CachedEmbedder(model, tmp_path).encode(TEXTS)
    model.embedded.clear()
    again = CachedEmbedder(model, tmp_path)
    vectors = again.encode(["Reverse a string!", "Reverse a string."])
    assert model.embedded == ["Reverse a string!"] and (again.hits, again.misses) == (1, 1)
    np.testing.assert_array_equal(vectors, model.encode(["Reverse a string!", "Reverse a string."]))


def test_another_model_or_precision_does_not_read_the_first_ones_vectors(tmp_path):
    CachedEmbedder(CountingEmbedder("model-a fp32"), tmp_path).encode(TEXTS)
    for key in ("model-b fp32", "model-a int8"):
        other = CountingEmbedder(key)
        cached = CachedEmbedder(other, tmp_path)
        vectors = cached.encode(TEXTS)
        assert other.embedded == TEXTS[:2] and cached.hits == 0
        np.testing.assert_array_equal(vectors, other.encode(TEXTS))


def test_a_file_made_under_another_key_is_ignored(tmp_path):
    model = CountingEmbedder()
    cached = CachedEmbedder(model, tmp_path)
    cached.encode(TEXTS)
    stale = CountingEmbedder("model-z fp32")
    os.replace(cached.path, CachedEmbedder(stale, tmp_path).path)  # same file name, other key
    reread = CachedEmbedder(stale, tmp_path)
    reread.encode(TEXTS)
    assert reread.hits == 0 and stale.embedded == TEXTS[:2]


def test_an_unwritable_directory_still_gives_the_vectors(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")  # nothing can be made under it, even by root
    model = CountingEmbedder()
    cached = CachedEmbedder(model, blocked)
    vectors = cached.encode(TEXTS)
    np.testing.assert_array_equal(vectors, model.encode(TEXTS))
    assert cached.misses == 2 and blocked.read_text() == "not a directory"


@pytest.mark.skipif(bool(embed_missing()) and not IN_CI, reason=embed_missing() or "-")
def test_the_real_model_through_the_cache(tmp_path):
    from factory.hygiene.embed import Embedder

    embedder = Embedder()
    direct = embedder.encode(TEXTS)
    cold = CachedEmbedder(embedder, tmp_path).encode(TEXTS)
    warm_cache = CachedEmbedder(embedder, tmp_path)
    warm = warm_cache.encode(TEXTS)
    assert warm_cache.hits == 3
    np.testing.assert_allclose(cold, direct, atol=1e-6)
    np.testing.assert_array_equal(warm, cold)
