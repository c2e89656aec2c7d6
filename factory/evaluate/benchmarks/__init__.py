"""Benchmark adapters, one file each; :func:`load_benchmark` imports only the one asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from factory.errors import ConfigError
from factory.evaluate.benchmarks.base import Benchmark, Task, guess_benchmark

BENCHMARKS = ("humaneval", "mbpp", "humanevalplus", "mbppplus", "dataset")
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "codefactory"

__all__ = ["BENCHMARKS", "Benchmark", "Task", "guess_benchmark", "load_benchmark"]


def load_benchmark(
    name: str,
    data: Path | None = None,
    dataset: Path | None = None,
    split: Literal["test", "all"] = "test",
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
) -> Benchmark:
    """Loads a benchmark by name; MBPP needs ``data`` (its file), a dataset its directory.

    HumanEval+ and MBPP+ read their bundled release unless ``data`` names another file, and
    keep their expected outputs under ``cache_dir`` (None: computed for this run only).
    """
    if name == "humaneval":
        from factory.evaluate.benchmarks.humaneval import HumanEval

        return HumanEval.load()
    if name == "mbpp":
        if data is None:
            raise ConfigError(
                "MBPP needs its data file: add --data PATH (mbpp.jsonl or sanitized-mbpp.json)"
            )
        from factory.evaluate.benchmarks.mbpp import Mbpp

        return Mbpp.load(data, split)
    if name in ("humanevalplus", "mbppplus"):
        from factory.evaluate.benchmarks.evalplus import HumanEvalPlus, MbppPlus

        bench = (HumanEvalPlus if name == "humanevalplus" else MbppPlus).load(data)
        bench.cache_dir = cache_dir
        return bench
    if name == "dataset":
        if dataset is None:
            raise ConfigError("evaluating a dataset needs its directory: add --dataset DIR")
        from factory.evaluate.benchmarks.dataset import DatasetBenchmark

        return DatasetBenchmark.load(dataset)
    raise ConfigError(f"unknown benchmark {name!r}: use one of {', '.join(BENCHMARKS)}")
