"""Expected outputs of HumanEval+ / MBPP+, computed in the sandbox once and cached on disk.

The releases carry inputs, not outputs: like EvalPlus, we run each task's reference solution on
every base and plus input, and time each call (the per-input limits are derived from those
times). The run happens in the same runner image the samples run in, one sandbox job per task
in parallel, so the times are measured where the samples are judged. The result is cached under
``cache_dir`` keyed by the data file's sha256 and the image tag: another data version or another
image computes its own; a cache file that does not parse is recomputed, never trusted halfway.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import os
import re
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from factory.evaluate.benchmarks.evalplus_programs import (
    EvalPlusBenchmark,
)

log = logging.getLogger(__name__)

CACHE_VERSION = 4
REFERENCE_OUTPUT_BYTES = 64 * 1024 * 1024
EVALPLUS_MEMORY_MB = 4096
"""Memory per sample for HumanEval+ / MBPP+: EvalPlus's own default, min(4 GiB, the system's),
since a correct answer can need more than a gigabyte (MBPP+'s Mbpp/255 returns 1.6 million
tuples); with less, such samples would fail here and pass there."""


class ExpectedOutputs(BaseModel):
    """Per task: ``base``/``plus`` (each output as JSON text, None = recomputed by the judge)
    and ``base_time``/``plus_time`` (the reference's seconds per input)."""

    model_config = ConfigDict(extra="forbid")

    cache_version: int = CACHE_VERSION
    benchmark: str
    data_sha256: str
    image: str
    outputs: dict[str, dict[str, list]]
    compute_s: float = 0.0
    cached: bool = False


def cache_path(bench: EvalPlusBenchmark, image: str) -> Path | None:
    if bench.cache_dir is None:
        return None
    safe_image = re.sub(r"[^A-Za-z0-9_.-]+", "_", image)
    name = f"{bench.name}-{bench.data_sha256[:16]}-{safe_image}.json.gz"
    return bench.cache_dir / "evalplus" / name


def load_cached(bench: EvalPlusBenchmark, pool_config) -> ExpectedOutputs | None:
    """The cached expected outputs for ``bench`` in ``pool_config``'s image, if any are valid."""
    path = cache_path(bench, pool_config.image)
    if path is not None and path.exists():
        return _read_cache(path, bench, pool_config.image)
    return None


def reference_config(pool_config):
    """``pool_config`` for the reference runs: memory enough for them to finish, and room
    for their outputs."""
    memory = max(pool_config.limits.memory_mb, EVALPLUS_MEMORY_MB)
    limits = pool_config.limits.model_copy(
        update={"output_limit_bytes": REFERENCE_OUTPUT_BYTES, "memory_mb": memory}
    )
    return pool_config.model_copy(update={"limits": limits})


COSTS_FILE = Path(__file__).parent / "data" / "evalplus_costs.json"
"""Each bundled release's reference runs in CPU seconds (``benchmarks/evalplus_costs.py``)."""


@functools.cache
def cost_hints(data_sha256: str) -> dict[str, float]:
    """What each task's reference run cost where the hints were measured (tasks of 0.05 s or
    more), for the data file with this sha256; empty for another data file. Only the order of
    work depends on it."""
    try:
        hints = json.loads(COSTS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    entry = hints.get(data_sha256)
    return dict(entry.get("cpu_seconds", {})) if isinstance(entry, dict) else {}


def reference_order(bench: EvalPlusBenchmark) -> list[str]:
    """The tasks, their reference runs costliest first (the bundled hints, then the number of
    inputs), so the slowest do not start last."""
    hints = cost_hints(bench.data_sha256)
    return sorted(
        bench.tasks, key=lambda task_id: (-hints.get(task_id, 0.0), -_input_weight(bench, task_id))
    )


def _input_weight(bench: EvalPlusBenchmark, task_id: str) -> int:
    plus = bench.plus[task_id]
    return len(plus.base_input) + len(plus.plus_input)


def _read_cache(path: Path, bench: EvalPlusBenchmark, image: str) -> ExpectedOutputs | None:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            loaded = ExpectedOutputs.model_validate_json(handle.read())
    except (OSError, EOFError, ValueError) as exc:
        log.warning("%s: unreadable cache (%s); computing the expected outputs again", path, exc)
        return None
    if (
        loaded.cache_version != CACHE_VERSION
        or loaded.data_sha256 != bench.data_sha256
        or loaded.image != image
        or set(loaded.outputs) != set(bench.tasks)
    ):
        log.warning("%s: cache for other data or image; computing again", path)
        return None
    loaded.cached = True
    return loaded


def write_cache(path: Path, expected: ExpectedOutputs) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        with gzip.open(temporary, "wt", encoding="utf-8", compresslevel=1) as handle:
            handle.write(expected.model_dump_json(exclude={"cached"}))
        os.replace(temporary, path)
    except OSError as exc:
        print(f"warning: cannot cache expected outputs in {path}: {exc}", file=sys.stderr)
