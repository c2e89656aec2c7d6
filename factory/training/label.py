"""``codefactory label``: a solver model's pass rate on every train row, the difficulty signal.

It is ``codefactory eval model`` on the dataset itself (the dataset as a benchmark: each row's
prompt asked ``n`` times, each answer judged against the row's own tests in the sandbox), kept
in ``DIR/label/``: ``run.json``, ``samples.jsonl``, ``results.jsonl`` and ``summary.json`` as
``eval model`` writes them, so a killed run resumes without asking the model again for what it
already answered and another solver or temperature on the same directory is refused; then
``labels.jsonl``, one :class:`RowLabel` per row. A sample the sandbox could not run
(``sandbox_error``) is not counted in the row's ``n``: infrastructure never makes a row harder.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from factory.evaluate.benchmarks.dataset import DatasetBenchmark
from factory.evaluate.model_eval import (
    RESULTS_FILE,
    GenerationProgress,
    SamplingConfig,
    run_model_eval,
)
from factory.evaluate.records import EvalSummary
from factory.evaluate.runner import EvalConfig, Progress
from factory.llm import LLMConfig
from factory.training.labels import LABEL_DIR, RowLabel, row_label, write_labels
from sandbox import Status


async def label_dataset(
    dataset_dir: Path,
    llm_config: LLMConfig,
    sampling: SamplingConfig,
    eval_config: EvalConfig,
    progress: Progress | None = None,
    generation_progress: GenerationProgress | None = None,
) -> tuple[EvalSummary, list[RowLabel]]:
    """Samples what is missing, judges every sample, writes and returns the rows' labels."""
    benchmark = DatasetBenchmark.load(dataset_dir)
    out = dataset_dir / LABEL_DIR
    summary = await run_model_eval(
        benchmark,
        dataset_dir,
        llm_config,
        sampling,
        eval_config,
        out,
        progress,
        generation_progress,
    )
    judged: dict[str, int] = defaultdict(int)
    passes: dict[str, int] = defaultdict(int)
    for line in (out / RESULTS_FILE).read_text(encoding="utf-8").splitlines():
        result = json.loads(line)
        if result["status"] == Status.SANDBOX_ERROR or result["completion_id"] >= sampling.n:
            continue
        judged[result["task_id"]] += 1
        passes[result["task_id"]] += bool(result["passed"])
    labels = [
        row_label(task_id, llm_config.model, judged[task_id], passes[task_id])
        for task_id in benchmark.tasks
    ]
    write_labels(dataset_dir, labels)
    return summary, labels
