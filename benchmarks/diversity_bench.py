"""The diversity pass on a synthetic corpus: time and memory of its lexical and semantic parts.

    .venv/bin/python benchmarks/diversity_bench.py [--rows 10000] [--seed 0] [--before]
    (semantic part: pip install -e '.[embed]')

The rows are ``minhash_rows.py``'s (statements from templates over a programming vocabulary,
generated solutions, 5% exact and 10% near copies planted), each given a topic and a
difficulty drawn from the bundled taxonomy. ``factory.dataset.diversity`` measures them as
``codefactory stats`` does: lexical (distinct-1..3 of descriptions, distinct 5-grams of the
normalised code, gzip compression ratio), coverage entropy against the plan, and semantic
(all-MiniLM-L6-v2 embeddings on the CPU, nearest neighbours, leader clusters, near duplicates
at cosine >= 0.95, 164 HumanEval descriptions as the benchmark set, the 2-D map).

The lexical and the semantic parts each run twice against one new temporary directory that
stands for the dataset's: cold (every solution normalised, every description embedded, as on a
dataset's first ``stats --diversity``) and warm (all read back from its cache, as the card, the
report and a push then do). ``--before`` first measures the pass as it
was before its speed-ups, in the same run: code normalised through ``tokenize`` in one process,
embeddings in fp32, no cache.

Printed: wall time of each part (model loading apart), of the embedding within the semantic
part, the embedding throughput, and peak memory as resident set size (VmHWM reset before the
part, minus VmRSS then: torch allocates outside Python's heap). The baseline, measured in the
same run, is the cheapest possible pass over the same rows: splitting each description into
words.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
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


def corpus(count: int, seed: int):
    """The benchmark's rows (``minhash_rows``' statements and solutions, topic and difficulty
    drawn from the taxonomy) and its benchmark set (HumanEval's 164 descriptions)."""
    from minhash_rows import generate

    from factory.dataset import diversity
    from factory.evaluate.benchmarks.humaneval import HumanEval
    from problems.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    rng = random.Random(seed)
    rows = [
        diversity.DiversityInput(
            id=row.id,
            description=row.description,
            solution=row.solution,
            topic=rng.choice(taxonomy.topics).name,
            difficulty=rng.choice(taxonomy.difficulties).value,
        )
        for row in generate(count, seed, 0.05, 0.10)
    ]
    benchmark = [
        (f"humaneval:{task.task_id}", task.description or task.prompt)
        for task in HumanEval.load().tasks.values()
    ]
    return taxonomy, rows, benchmark


class _Timed:
    """An embedder that adds up the time spent embedding."""

    def __init__(self, embedder) -> None:
        self.embedder, self.name, self.key = embedder, embedder.name, embedder.key
        self.precision, self.seconds = embedder.precision, 0.0

    def encode(self, texts):
        start = time.perf_counter()
        try:
            return self.embedder.encode(texts)
        finally:
            self.seconds += time.perf_counter() - start


def _lexical(
    rows, taxonomy, *, tokenize_only: bool, one_process: bool, cache_dir: Path | None = None
) -> dict:
    from factory.dataset import diversity
    from factory.hygiene import normalise

    plain, parallel = normalise._plain_tokens, diversity.PARALLEL_ROWS
    if tokenize_only:
        normalise._plain_tokens = lambda source, structure: None
    if one_process:
        diversity.PARALLEL_ROWS = len(rows) + 1
    try:
        _reset_peak()
        base_rss = _rss_mib("VmRSS")
        start = time.perf_counter()
        lexical = diversity.lexical(rows, cache_dir)
        lexical_s = time.perf_counter() - start
        start = time.perf_counter()
        coverage = diversity.coverage(rows, taxonomy)
        coverage_s = time.perf_counter() - start
    finally:
        normalise._plain_tokens, diversity.PARALLEL_ROWS = plain, parallel
    return {
        "lexical_s": round(lexical_s, 2),
        "coverage_s": round(coverage_s, 3),
        "lexical_peak_rss_mib": round(_rss_mib("VmHWM") - base_rss, 1),
        "lexical": lexical.model_dump(),
        "coverage": coverage.model_dump(),
        "load": os.getloadavg(),
    }


def _semantic(rows, benchmark, embedder) -> dict:
    from factory.dataset import diversity

    timed = _Timed(embedder)
    _reset_peak()
    base_rss = _rss_mib("VmRSS")
    start = time.perf_counter()
    semantic = diversity.semantic(rows, benchmark, timed)
    semantic_s = time.perf_counter() - start
    figures = {
        "semantic_s": round(semantic_s, 2),
        "embedding_s": round(timed.seconds, 2),
        "rest_s": round(semantic_s - timed.seconds, 2),
        "semantic_peak_rss_mib": round(_rss_mib("VmHWM") - base_rss, 1),
        "precision": semantic.precision,
        "mean_nn_distance": round(semantic.mean_nn_distance, 4),
        "clusters": semantic.clusters,
        "near_duplicates": len(semantic.near_duplicates),
        "benchmark_matches": len(semantic.benchmark_matches),
        "load": os.getloadavg(),
    }
    if hasattr(embedder, "hits"):
        figures.update(cache_hits=embedder.hits, cache_misses=embedder.misses)
    if timed.seconds and getattr(embedder, "misses", 1):
        figures["texts_embedded_per_s"] = round((len(rows) + len(benchmark)) / timed.seconds, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--before", action="store_true", help="also the pass before speed-ups")
    args = parser.parse_args()

    from factory.dataset import diversity
    from factory.hygiene.embed import fast_precision
    from factory.hygiene.embed_cache import CachedEmbedder

    taxonomy, rows, benchmark = corpus(args.rows, args.seed)
    print(f"rows: {len(rows)}, cores: {os.cpu_count()}, load: {os.getloadavg()}", flush=True)

    start = time.perf_counter()
    baseline_words = sum(len(row.description.split()) for row in rows)
    figures: dict = {
        "baseline_split_s": round(time.perf_counter() - start, 3),
        "baseline_words": baseline_words,
    }
    skipped = diversity.semantic_available()
    if args.before:
        before = _lexical(rows, taxonomy, tokenize_only=True, one_process=True)
        if not skipped:
            before.update(_semantic(rows, benchmark, diversity.Embedder("fp32")))
            before["lexical_plus_semantic_s"] = round(
                before["lexical_s"] + before["coverage_s"] + before["semantic_s"], 2
            )
        figures["before"] = before
        print(json.dumps({"before": before}), flush=True)
    figures["one_process_lexical_s"] = _lexical(
        rows, taxonomy, tokenize_only=False, one_process=True
    )["lexical_s"]
    with tempfile.TemporaryDirectory(prefix="diversity-bench-") as directory:
        out_dir = Path(directory)  # stands for a dataset's directory and its cache
        figures.update(
            _lexical(rows, taxonomy, tokenize_only=False, one_process=False, cache_dir=out_dir)
        )
        warm_lexical = _lexical(
            rows, taxonomy, tokenize_only=False, one_process=False, cache_dir=out_dir
        )
        figures["warm_lexical_s"] = warm_lexical["lexical_s"]
        if skipped:
            figures["semantic"] = skipped
        else:
            start = time.perf_counter()
            embedder = diversity.Embedder(fast_precision())
            figures["model_load_s"] = round(time.perf_counter() - start, 2)
            figures["cold"] = _semantic(rows, benchmark, CachedEmbedder(embedder, out_dir))
            figures["warm"] = _semantic(rows, benchmark, CachedEmbedder(embedder, out_dir))
            cold_lexical = figures["lexical_s"] + figures["coverage_s"]
            figures["lexical_plus_semantic_cold_s"] = round(
                cold_lexical + figures["cold"]["semantic_s"], 2
            )
            figures["lexical_plus_semantic_warm_s"] = round(
                warm_lexical["lexical_s"] + figures["coverage_s"] + figures["warm"]["semantic_s"],
                2,
            )
    figures["load_after"] = os.getloadavg()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
