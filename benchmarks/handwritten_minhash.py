"""The hand-written MinHash LSH that ``factory.hygiene.minhash`` used before it moved to rensa,
kept unchanged here as the baseline of ``minhash_bench.py``.

The Jaccard similarity of two shingle sets equals the chance that both sets have the same
minimum under a random hash; ``num_perm`` such minima estimate it with a standard error of
about ``sqrt(J(1-J)/num_perm)`` (0.03 at J=0.85 with 128). The LSH index cuts a signature into
``bands`` bands of ``rows`` values; two rows become candidates when any band is equal, which
happens with probability ``1 - (1 - J**rows)**bands``, an S-curve placed at the threshold by
:func:`lsh_bands`. Candidates are then confirmed by their estimated similarity. Shingles are
hashed with blake2b (not Python's salted ``hash``) and the permutations come from a fixed seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable

import numpy as np

FMIX_C1 = np.uint64(0xFF51AFD7ED558CCD)
FMIX_C2 = np.uint64(0xC4CEB9FE1A85EC53)
SHIFT = np.uint64(33)
EMPTY_VALUE = np.uint64(0xFFFFFFFFFFFFFFFF)


class MinHasher:
    """Maps a set of shingles to ``num_perm`` minima of independent 64-bit hash functions.

    Hash function ``i`` is MurmurHash3's 64-bit finaliser applied to ``shingle_hash ^ seed_i``:
    every input bit flips each output bit with probability about one half, so the minima
    under different seeds behave as independent. (A linear family ``a*x + b mod p`` with
    small ``a`` and ``x`` barely wraps modulo ``p``, so its orderings are nearly the same for
    every ``a`` and the minima agree far more often than the sets do.)
    """

    def __init__(self, num_perm: int = 128, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.num_perm = num_perm
        self._seeds = rng.integers(0, 1 << 64, size=(num_perm, 1), dtype=np.uint64)

    def signature(self, shingles: Iterable[str]) -> np.ndarray:
        hashes = np.fromiter(
            (_hash64(shingle) for shingle in set(shingles)), dtype=np.uint64
        ).reshape(1, -1)
        if hashes.size == 0:
            return np.full(self.num_perm, EMPTY_VALUE, dtype=np.uint64)
        return _fmix64(hashes ^ self._seeds).min(axis=1)


def _fmix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> SHIFT)
    x = x * FMIX_C1
    x = x ^ (x >> SHIFT)
    x = x * FMIX_C2
    return x ^ (x >> SHIFT)


def similarity(first: np.ndarray, second: np.ndarray) -> float:
    """Estimated Jaccard similarity of the two sets behind the signatures."""
    return float(np.mean(first == second))


MIN_RECALL_AT_THRESHOLD = 0.95


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows): the most rows per band that still meet a pair at the threshold 95% of
    the time.

    More rows per band mean fewer dissimilar candidates to confirm, but also more missed
    pairs; a missed near duplicate cannot be recovered later, while a spurious candidate only
    costs one signature comparison. So the recall at the threshold is fixed and the candidate
    rate below it minimised (at 0.85 with 128 values: 14 bands of 9, recall 0.975).
    """
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= MIN_RECALL_AT_THRESHOLD:
            return bands, rows
    return num_perm, 1


class LSHIndex:
    """Banded LSH over MinHash signatures; keys are whatever identifies a row."""

    def __init__(self, threshold: float, num_perm: int):
        self.threshold = threshold
        self.bands, self.rows = lsh_bands(threshold, num_perm)
        self._tables: list[dict[bytes, list[Hashable]]] = [{} for _ in range(self.bands)]
        self._signatures: dict[Hashable, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def insert(self, key: Hashable, signature: np.ndarray) -> None:
        if key in self._signatures:
            return
        self._signatures[key] = signature
        for table, band in zip(self._tables, self._band_keys(signature), strict=True):
            table.setdefault(band, []).append(key)

    def nearest(self, signature: np.ndarray) -> tuple[Hashable, float] | None:
        """The most similar stored key at or above the threshold, with its similarity."""
        candidates: dict[Hashable, None] = {}
        for table, band in zip(self._tables, self._band_keys(signature), strict=True):
            for key in table.get(band, ()):
                candidates[key] = None
        best: tuple[Hashable, float] | None = None
        for key in candidates:
            score = similarity(signature, self._signatures[key])
            if score >= self.threshold and (best is None or score > best[1]):
                best = (key, score)
        return best

    def _band_keys(self, signature: np.ndarray) -> list[bytes]:
        return [signature[i * self.rows : (i + 1) * self.rows].tobytes() for i in range(self.bands)]


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
