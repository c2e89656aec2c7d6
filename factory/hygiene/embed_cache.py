"""Embeddings kept beside a dataset, so ``stats --diversity``, the card, the report and a push
embed each description once rather than every time.

``DIR/cache/embeddings/<key digest>.npz`` holds ``keys`` (the sha256 of each text, 32 bytes),
``vectors`` (one float32 row per key) and ``embedder``, the key of the embedder that made them:
the model's name and how it is run (precision, word pieces kept, library versions). Another
embedder reads another file, and a file whose stored key is not the embedder's is ignored, so
a changed model or precision never serves vectors it did not make. Texts are looked up by
their digest, so a row whose description changed is embedded again. The file is replaced
atomically (a temporary file, then ``os.replace``); a directory that cannot be written leaves
the pass uncached, with the same numbers.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

CACHE_DIR = Path("cache") / "embeddings"


class TextEmbedder(Protocol):
    name: str
    precision: str
    key: str

    def encode(self, texts: Sequence[str]): ...


def text_digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


class CachedEmbedder:
    """``embedder`` with its vectors kept under ``directory`` (a dataset's --out directory).

    ``hits`` and ``misses`` count texts found in and added to the cache, for the benchmark and
    the tests; identical texts in one call are embedded once.
    """

    def __init__(self, embedder: TextEmbedder, directory: Path) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.precision = embedder.precision
        self.key = embedder.key
        digest = hashlib.sha256(self.key.encode()).hexdigest()[:16]
        self.path = Path(directory) / CACHE_DIR / f"{digest}.npz"
        self.hits = 0
        self.misses = 0

    def encode(self, texts: Sequence[str]):
        import numpy as np

        digests = [text_digest(text) for text in texts]
        keys, vectors = self._load()
        index = {key: i for i, key in enumerate(keys)}
        missing: dict[bytes, str] = {}
        for key, text in zip(digests, texts, strict=True):
            if key not in index and key not in missing:
                missing[key] = text
        if missing:
            fresh = np.asarray(self.embedder.encode(list(missing.values())), dtype=np.float32)
            start = len(keys)
            keys = [*keys, *missing]
            vectors = fresh if vectors is None else np.concatenate([vectors, fresh])
            index.update((key, start + i) for i, key in enumerate(missing))
            self._save(keys, vectors)
        self.misses += len(missing)
        self.hits += len(digests) - sum(1 for key in digests if key in missing)
        if not digests:
            return np.empty((0, 0 if vectors is None else vectors.shape[1]), dtype=np.float32)
        return vectors[[index[key] for key in digests]]

    def _load(self):
        import numpy as np

        try:
            with np.load(self.path, allow_pickle=False) as stored:
                if str(stored["embedder"]) != self.key:
                    return [], None
                keys = [bytes(row) for row in stored["keys"]]
                return keys, stored["vectors"].astype(np.float32, copy=False)
        except (OSError, KeyError, ValueError):
            return [], None

    def _save(self, keys: list[bytes], vectors) -> None:
        import numpy as np

        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as handle:
                np.savez(
                    handle,
                    keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32),
                    vectors=vectors,
                    embedder=np.array(self.key),
                )
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
