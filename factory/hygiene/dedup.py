"""Dedup: keep the first of each problem, drop the later copies, exact and near.

- **Exact**: two rows whose solutions have the same normalised form (see ``normalise``: same
  program up to names, comments, docstrings, annotations and layout). A very short solution
  (under ``min_code_tokens_alone`` normalised tokens, e.g. ``return a + b``) says too little
  about the problem on its own, so for those the description's words must match as well.
- **Near**: MinHash LSH over the union of the description's word 3-shingles and the
  normalised solution's token 5-shingles; a row whose estimated Jaccard similarity with a kept
  row reaches ``threshold`` (default 0.85) is a near duplicate. Words are short, so 3 words
  keep one edited word from erasing much; code tokens are finer (``(``, ``:``), so 5 tokens
  are about as specific as 3 words. Both parts in one set make "the same problem, solved the
  same way" the unit, whichever part was reworded.

The index is rebuilt from the stored rows on resume (:meth:`Deduplicator.from_rows`): hashing
is deterministic, so the rebuilt index equals the one the earlier run had. No signature is
stored with a row, so a dataset begun with another MinHash implementation (before rensa) is
resumed correctly too: its kept rows are hashed again by the running one, and every later row
is compared with them by that one alone.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from factory.hygiene.base import RowText
from factory.hygiene.minhash import LSHIndex, MinHasher, Signature, shingles
from factory.hygiene.normalise import normalised_code, words
from factory.records import Drop, DropReason

DESCRIPTION_SHINGLE = 3
CODE_SHINGLE = 5


class DedupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = 1
    enabled: bool = True
    threshold: float = Field(0.85, gt=0.0, le=1.0)
    num_perm: int = Field(128, ge=16, le=1024)
    seed: int = Field(1, ge=0, lt=1 << 64)
    min_code_tokens_alone: int = Field(20, ge=0)


class Fingerprint:
    """What the index stores per row: an exact key and a MinHash signature."""

    __slots__ = ("exact_key", "signature")

    def __init__(self, exact_key: str, signature: Signature):
        self.exact_key = exact_key
        self.signature = signature


class Deduplicator:
    """Stage-shaped: ``check(row)`` says keep or drop; ``add(row)`` records a kept row."""

    def __init__(self, config: DedupConfig | None = None):
        self.config = config or DedupConfig()
        self._hasher = MinHasher(self.config.num_perm, self.config.seed)
        self._lsh = LSHIndex(self.config.threshold, self.config.num_perm)
        self._exact: dict[str, str] = {}
        self._recent: OrderedDict[RowText, Fingerprint] = OrderedDict()

    @classmethod
    def from_rows(cls, rows: Iterable[Any], config: DedupConfig | None = None) -> Deduplicator:
        """The index of an existing dataset, rows in their stored order (first one wins)."""
        dedup = cls(config)
        for row in rows:
            dedup.add(row)
        return dedup

    def __len__(self) -> int:
        return len(self._exact)

    def check(self, row: Any) -> Drop | None:
        """None keeps ``row``; a drop names the kept row it duplicates."""
        if not self.config.enabled:
            return None
        candidate = RowText.of(row)
        fingerprint = self._fingerprint(candidate)
        first = self._exact.get(fingerprint.exact_key)
        if first is not None and first != candidate.id:
            return Drop.of(
                DropReason.EXACT_DUPLICATE, first, "same normalised solution as a kept row"
            )
        nearest = self._lsh.nearest(fingerprint.signature)
        if nearest is not None and nearest[0] != candidate.id:
            return Drop.of(
                DropReason.NEAR_DUPLICATE,
                str(nearest[0]),
                f"estimated Jaccard {nearest[1]:.2f} >= {self.config.threshold}",
            )
        return None

    def add(self, row: Any) -> None:
        if not self.config.enabled:
            return
        candidate = RowText.of(row)
        fingerprint = self._recent.pop(candidate, None) or self._fingerprint(candidate)
        self._exact.setdefault(fingerprint.exact_key, candidate.id)
        self._lsh.insert(candidate.id, fingerprint.signature)

    def check_and_add(self, row: Any) -> Drop | None:
        drop = self.check(row)
        if drop is None:
            self.add(row)
        return drop

    def _fingerprint(self, candidate: RowText) -> Fingerprint:
        cached = self._recent.get(candidate)
        if cached is not None:
            return cached
        normalised = normalised_code(candidate.solution)
        code = normalised.split(" ")
        text = words(candidate.description)
        exact = normalised
        if len(code) < self.config.min_code_tokens_alone:
            exact += "\x00" + " ".join(text)
        fingerprint = Fingerprint(
            hashlib.sha256(exact.encode()).hexdigest(),
            self._hasher.signature(_shingles(text, code)),
        )
        self._recent[candidate] = fingerprint
        while len(self._recent) > 256:
            self._recent.popitem(last=False)
        return fingerprint


def row_shingles(description: str, solution: str) -> set[str]:
    """The set whose MinHash signature stands for a row (see the module's docstring)."""
    return _shingles(words(description), normalised_code(solution).split(" "))


def _shingles(text: list[str], code: list[str]) -> set[str]:
    return shingles(text, DESCRIPTION_SHINGLE, "d:") | shingles(code, CODE_SHINGLE, "c:")
