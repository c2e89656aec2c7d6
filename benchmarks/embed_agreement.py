"""How far bf16 (and int8) embeddings move the diversity numbers from fp32, on the benchmark
corpus.

    .venv/bin/python benchmarks/embed_agreement.py [--rows 10000] [--seed 0] [--cache DIR] [--int8]
    (needs the embed extra: pip install -e '.[embed]')

The rows are ``diversity_bench.py``'s. Each precision embeds every description (through an
embedding cache in ``--cache``, so a second run reads them back; the times printed are those of
the run that computed them, 0 when they came from the cache). Printed: each row's cosine
between its fp32 vector and the other precision's; over every pair of rows, the largest change of their
cosine, and that change among the pairs the decisions hinge on (fp32 cosine >= 0.9); the near
duplicates at 0.95 each precision finds and the rows where they disagree (flagged by one and
not the other, or given another neighbour), the benchmark matches, the mean nearest-neighbour
distance and the cluster count of each.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _pair_changes(a, b, block: int = 1024) -> tuple[float, float, int]:
    """Largest |cosine_b - cosine_a| over all pairs, over pairs with cosine_a >= 0.9, and how
    many such pairs there are (the diagonal left out)."""
    import numpy as np

    worst = worst_close = 0.0
    close = 0
    for start in range(0, len(a), block):
        sa, sb = a[start : start + block] @ a.T, b[start : start + block] @ b.T
        for offset in range(sa.shape[0]):
            sa[offset, start + offset] = sb[offset, start + offset] = np.nan
        delta = np.abs(sb - sa)
        worst = max(worst, float(np.nanmax(delta)))
        mask = sa >= 0.9
        close += int(mask.sum())
        if mask.any():
            worst_close = max(worst_close, float(delta[mask].max()))
    return worst, worst_close, close


def _int8_embedder():
    """The model with its linear layers quantised to int8 (dynamic, per tensor): measured here
    only, since it moves the cosines too far to be used."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    from factory.hygiene.embed import Embedder

    embedder = Embedder("fp32")
    embedder.model = quantize_dynamic(embedder.model, {torch.nn.Linear}, dtype=torch.qint8)
    embedder.key = embedder.key.replace(" fp32 ", " int8-dynamic ")
    return embedder


def _listed(items: list, shown: int = 10) -> dict:
    """How many, and the first few (row id order)."""
    return {"count": len(items), "first": sorted(items)[:shown]}


def _compare(rows, reference, vectors, result) -> dict:
    own = (reference["vectors"] * vectors).sum(axis=1)
    worst, worst_close, close = _pair_changes(reference["vectors"], vectors)
    near = {d.id: d for d in reference["result"].near_duplicates}
    other = {d.id: d for d in result.near_duplicates}
    return {
        "own_cosine_min": round(float(own.min()), 5),
        "own_cosine_mean": round(float(own.mean()), 5),
        "pair_cosine_change_max": round(worst, 4),
        "pair_cosine_change_max_where_fp32_ge_0.9": round(worst_close, 4),
        "pairs_fp32_ge_0.9": close // 2,
        "near_duplicates": len(other),
        "flagged_by_fp32_only": _listed([(i, near[i].cosine) for i in set(near) - set(other)]),
        "flagged_by_this_only": _listed([(i, other[i].cosine) for i in set(other) - set(near)]),
        "other_neighbour": _listed(
            [i for i in set(near) & set(other) if near[i].neighbour != other[i].neighbour]
        ),
        "benchmark_matches": len(result.benchmark_matches),
        "mean_nn_distance": round(result.mean_nn_distance, 5),
        "clusters": result.clusters,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--int8", action="store_true", help="also int8 dynamic quantisation")
    args = parser.parse_args()

    from diversity_bench import corpus

    from factory.dataset import diversity
    from factory.hygiene.embed import Embedder
    from factory.hygiene.embed_cache import CachedEmbedder

    _, rows, benchmark = corpus(args.rows, args.seed)
    cache = args.cache or Path(tempfile.mkdtemp(prefix="embed-agreement-"))
    print(f"rows: {len(rows)}, cores: {os.cpu_count()}, load: {os.getloadavg()}, cache: {cache}")
    makers = {"fp32": lambda: Embedder("fp32"), "bf16": lambda: Embedder("bf16")}
    if args.int8:
        makers["int8"] = _int8_embedder
    figures: dict = {}
    reference: dict = {}
    for precision, make in makers.items():
        embedder = CachedEmbedder(make(), cache)
        start = time.perf_counter()
        vectors = embedder.encode([row.description for row in rows])
        seconds = round(time.perf_counter() - start, 1) if embedder.misses else 0
        result = diversity.semantic(rows, benchmark, embedder)
        if precision == "fp32":
            reference = {"vectors": vectors, "result": result}
            figures[precision] = {
                "near_duplicates": len(result.near_duplicates),
                "benchmark_matches": len(result.benchmark_matches),
                "mean_nn_distance": round(result.mean_nn_distance, 5),
                "clusters": result.clusters,
            }
        else:
            figures[precision] = _compare(rows, reference, vectors, result)
        figures[precision]["embed_s"] = seconds
        figures[precision]["load_after"] = os.getloadavg()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
