"""MinHash signatures and a banded LSH index (rensa's): near-duplicate search per row.

The Jaccard similarity of two shingle sets equals the chance that both sets have the same
minimum under a random hash; ``num_perm`` such minima estimate it with a standard error of
about ``sqrt(J(1-J)/num_perm)`` (0.03 at J=0.85 with 128). The LSH index cuts a signature into
``bands`` bands of ``rows`` values; two rows become candidates when any band is equal, which
happens with probability ``1 - (1 - J**rows)**bands``, an S-curve placed at the threshold by
:func:`lsh_bands`. Candidates are then confirmed by their estimated similarity.

Signatures and the band index come from rensa (``RMinHash``, ``RMinHashLSH``), a Rust
implementation: ``benchmarks/minhash_bench.py`` measured it against the hand-written numpy
version this module used to hold and against datasketch, on the same shingles, and it found
the same duplicates in a small fraction of the time (figures in README, Performance).

Everything is deterministic: rensa hashes each shingle's bytes with a fixed function (not
Python's salted ``hash``) and derives its permutations from ``seed``, so an index rebuilt from
stored rows in a later process is identical to the one the earlier run had. Signatures are
never stored: the dedup index is rebuilt from the stored rows at every start, so an index is
always made by one implementation, the one running (:data:`IMPLEMENTATION`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from importlib.metadata import version

import rensa

Signature = rensa.RMinHash

IMPLEMENTATION = f"rensa {version('rensa')} RMinHash v{rensa.RMinHash.ALGORITHM_VERSION}"
"""Which MinHash made the signatures: rensa's release and its hashing's version."""


class MinHasher:
    """Maps a set of shingles to ``num_perm`` minima of seeded hash functions."""

    def __init__(self, num_perm: int = 128, seed: int = 1):
        self.num_perm = num_perm
        self.seed = seed

    def signature(self, shingles: Iterable[str]) -> Signature:
        """The set's signature; an empty set's matches nothing but another empty set."""
        signature = rensa.RMinHash(self.num_perm, self.seed)
        signature.update(list(shingles))
        return signature


def similarity(first: Signature, second: Signature) -> float:
    """Estimated Jaccard similarity of the two sets behind the signatures."""
    return first.jaccard(second)


def shingles(tokens: list[str], size: int, prefix: str = "") -> set[str]:
    """Contiguous ``size``-token windows (the whole sequence when it is shorter)."""
    if len(tokens) <= size:
        return {prefix + "\x1f".join(tokens)} if tokens else set()
    return {prefix + "\x1f".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


MIN_RECALL_AT_THRESHOLD = 0.95


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows): the most rows per band that still meet a pair at the threshold 95% of
    the time, with ``bands * rows == num_perm`` (rensa's index uses every value).

    More rows per band mean fewer dissimilar candidates to confirm, but also more missed
    pairs; a missed near duplicate cannot be recovered later, while a spurious candidate only
    costs one signature comparison. So the recall at the threshold is fixed and the candidate
    rate below it minimised (at 0.85 with 128 values: 16 bands of 8, recall 0.994; the next
    divisor, 8 bands of 16, would meet only 46% of the pairs at the threshold).
    """
    for rows in range(num_perm, 0, -1):
        if num_perm % rows:
            continue
        bands = num_perm // rows
        if 1 - (1 - threshold**rows) ** bands >= MIN_RECALL_AT_THRESHOLD:
            return bands, rows
    return num_perm, 1


class LSHIndex:
    """Banded LSH over MinHash signatures; keys are whatever identifies a row.

    rensa's index keys are integers, so a key is stored at its insertion position; the
    position also breaks ties, making :meth:`nearest` independent of the order in which the
    index returns candidates.
    """

    def __init__(self, threshold: float, num_perm: int):
        self.threshold = threshold
        self.bands, self.rows = lsh_bands(threshold, num_perm)
        self._index = rensa.RMinHashLSH(threshold, num_perm, self.bands)
        self._keys: list[Hashable] = []
        self._signatures: list[Signature] = []
        self._positions: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def insert(self, key: Hashable, signature: Signature) -> None:
        if key in self._positions:
            return
        position = len(self._keys)
        self._index.insert(position, signature)
        self._positions[key] = position
        self._keys.append(key)
        self._signatures.append(signature)

    def nearest(self, signature: Signature) -> tuple[Hashable, float] | None:
        """The most similar stored key at or above the threshold (the earliest stored among
        equals), with its similarity."""
        best: tuple[int, float] | None = None
        for position in sorted(set(self._index.query(signature))):
            score = signature.jaccard(self._signatures[position])
            if score >= self.threshold and (best is None or score > best[1]):
                best = (position, score)
        return None if best is None else (self._keys[best[0]], best[1])
