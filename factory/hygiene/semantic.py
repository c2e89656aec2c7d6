"""Semantic near duplicates: an accepted row whose description means what a kept row's does.

MinHash catches rows that share words; two statements of one problem in other words share few.
With the ``embed`` extra, each accepted row's description is embedded (all-MiniLM-L6-v2, see
``factory.hygiene.embed``) and compared with every kept row's: at cosine >= ``threshold``
(0.95, KodCode's semantic dedup threshold) it is dropped, naming the kept row. Off by default:
it needs the extra, and turning it on changes which rows a dataset keeps (it is part of the
run's fingerprint). A resumed run embeds the kept rows again, in their stored order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from factory.errors import ConfigError
from factory.hygiene.embed import Embedder, embed_missing
from factory.records import Drop, DropReason

KODCODE_THRESHOLD = 0.95


class SemanticDedupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    threshold: float = Field(KODCODE_THRESHOLD, gt=0.0, le=1.0)


class SemanticDeduplicator:
    """``check(row)`` says keep or drop; ``add(row)`` records a kept row (as dedup does)."""

    def __init__(self, config: SemanticDedupConfig, embedder: Embedder | None = None) -> None:
        self.config = config
        self._embedder = embedder
        self._ids: list[str] = []
        self._vectors = None
        if config.enabled and embedder is None:
            missing = embed_missing()
            if missing:
                raise ConfigError(f"semantic dedup needs embeddings, but {missing}")
            self._embedder = Embedder()

    def check(self, row: Any) -> Drop | None:
        if not self.config.enabled or self._vectors is None:
            return None
        vector = self._vector(row)
        similarities = self._vectors @ vector
        best = int(similarities.argmax())
        cosine = float(similarities[best])
        if cosine >= self.config.threshold and self._ids[best] != row.id:
            return Drop.of(
                DropReason.SEMANTIC_DUPLICATE,
                self._ids[best],
                f"description cosine {cosine:.3f} >= {self.config.threshold}",
            )
        return None

    def add(self, row: Any) -> None:
        if not self.config.enabled:
            return
        import numpy as np

        vector = self._vector(row)[None, :]
        self._vectors = vector if self._vectors is None else np.vstack([self._vectors, vector])
        self._ids.append(row.id)

    def add_all(self, rows: Iterable[Any]) -> None:
        for row in rows:
            self.add(row)

    def _vector(self, row: Any):
        return self._embedder.encode([row.description])[0]
