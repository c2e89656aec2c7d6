"""The embedder's bf16 mode against fp32 on real task descriptions: the cosines the diversity
numbers and the 0.95 decisions rest on move by a bounded amount, and alike texts are one input."""

from __future__ import annotations

import numpy as np
import pytest

from factory.hygiene.benchmarks import load_humaneval
from factory.hygiene.embed import Embedder, embed_missing
from tests.conftest import IN_CI

pytestmark = pytest.mark.skipif(bool(embed_missing()) and not IN_CI, reason=embed_missing() or "-")

COSINE_CHANGE_BOUND = 0.005  # 0.0042 at most over every pair of the 10,000-row benchmark corpus


@pytest.fixture(scope="module")
def texts():
    descriptions = [task.description for task in load_humaneval()[:60]]
    # near copies, so that some pairs sit around the 0.95 threshold
    edited = [d.replace("list", "array").replace("Return", "Give back") for d in descriptions[:30]]
    return descriptions + edited


def test_bf16_moves_cosines_by_a_bounded_amount(texts):
    fp32, bf16 = Embedder("fp32").encode(texts), Embedder("bf16").encode(texts)
    assert bf16.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    assert float((fp32 * bf16).sum(axis=1).min()) > 0.9999
    exact, approx = fp32 @ fp32.T, bf16 @ bf16.T
    assert float(np.abs(approx - exact).max()) <= COSINE_CHANGE_BOUND
    clear = np.abs(exact - 0.95) > COSINE_CHANGE_BOUND  # decisions not within the bound
    assert ((exact >= 0.95) == (approx >= 0.95))[clear].all()
    assert ((exact >= 0.95) & ~np.eye(len(texts), dtype=bool)).any()  # some pairs are close


def test_texts_that_tokenise_alike_get_one_vector():
    embedder = Embedder("fp32")
    vectors = embedder.encode(["Sort the list.", "SORT  THE LIST.", "Sort the list!"])
    np.testing.assert_array_equal(vectors[0], vectors[1])
    assert float(vectors[0] @ vectors[2]) < 1.0 - 1e-6
    assert embedder.encode([]).shape == (0, embedder.dimensions)
