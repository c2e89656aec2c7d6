"""The diversity pass on a synthetic corpus: time and memory of its lexical and semantic parts.

    .venv/bin/python benchmarks/diversity_bench.py [--rows 10000] [--seed 0]
    (semantic part: pip install -e '.[embed]')

The rows are ``minhash_rows.py``'s (statements from templates over a programming vocabulary,
generated solutions, 5% exact and 10% near copies planted), each given a topic and a
difficulty drawn from the bundled taxonomy. ``factory.dataset.diversity`` measures them as
``codefactory stats`` does: lexical (distinct-1..3 of descriptions, distinct 5-grams of the
normalised code, gzip compression ratio), coverage entropy against the plan, and semantic
(all-MiniLM-L6-v2 embeddings on the CPU, nearest neighbours, leader clusters, near duplicates
at cosine >= 0.95, 164 HumanEval descriptions as the benchmark set, the 2-D map).

Printed: wall time of each part (model loading apart), the embedding throughput, and peak
memory as resident set size (VmHWM reset before the pass, minus VmRSS then: torch allocates
outside Python's heap). The baseline, measured in the same run, is the cheapest possible pass
over the same rows: splitting each description into words.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from minhash_rows import generate

    from factory.dataset import diversity
    from factory.evaluate.benchmarks.humaneval import HumanEval
    from problems.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    rng = random.Random(args.seed)
    rows = [
        diversity.DiversityInput(
            id=row.id,
            description=row.description,
            solution=row.solution,
            topic=rng.choice(taxonomy.topics).name,
            difficulty=rng.choice(taxonomy.difficulties).value,
        )
        for row in generate(args.rows, args.seed, 0.05, 0.10)
    ]
    benchmark = [
        (f"humaneval:{task.task_id}", task.description or task.prompt)
        for task in HumanEval.load().tasks.values()
    ]
    print(f"rows: {len(rows)}, cores: {os.cpu_count()}, load: {os.getloadavg()}")

    start = time.perf_counter()
    baseline_words = sum(len(row.description.split()) for row in rows)
    baseline_s = time.perf_counter() - start

    _reset_peak()
    base_rss = _rss_mib("VmRSS")
    start = time.perf_counter()
    lexical = diversity.lexical(rows)
    lexical_s = time.perf_counter() - start
    start = time.perf_counter()
    coverage = diversity.coverage(rows, taxonomy)
    coverage_s = time.perf_counter() - start
    lexical_peak = _rss_mib("VmHWM") - base_rss
    figures = {
        "baseline_split_s": round(baseline_s, 3),
        "baseline_words": baseline_words,
        "lexical_s": round(lexical_s, 2),
        "coverage_s": round(coverage_s, 3),
        "lexical_peak_rss_mib": round(lexical_peak, 1),
        "lexical": lexical.model_dump(),
        "coverage": coverage.model_dump(),
    }
    skipped = diversity.semantic_available()
    if skipped:
        figures["semantic"] = skipped
    else:
        start = time.perf_counter()
        embedder = diversity.Embedder()
        figures["model_load_s"] = round(time.perf_counter() - start, 2)
        _reset_peak()
        base_rss = _rss_mib("VmRSS")
        start = time.perf_counter()
        semantic = diversity.semantic(rows, benchmark, embedder)
        semantic_s = time.perf_counter() - start
        figures.update(
            semantic_s=round(semantic_s, 2),
            semantic_peak_rss_mib=round(_rss_mib("VmHWM") - base_rss, 1),
            rows_embedded_per_s=round((len(rows) + len(benchmark)) / semantic_s, 1),
            mean_nn_distance=round(semantic.mean_nn_distance, 4),
            clusters=semantic.clusters,
            near_duplicates=len(semantic.near_duplicates),
            benchmark_matches=len(semantic.benchmark_matches),
            lexical_plus_semantic_s=round(lexical_s + coverage_s + semantic_s, 2),
        )
    figures["load_after"] = os.getloadavg()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
