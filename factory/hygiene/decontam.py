"""Decontamination: drop rows that copy a benchmark task, naming the task they copy.

Three checks, each tuned so that a copy is caught while a new problem on the same topic is not:

- **Normalised code**: a top-level function of the row's solution has the same normalised form
  (see ``normalise``) as the entry point of a benchmark's reference solution: the same program
  up to names, comments, docstrings, annotations and layout. Renaming cannot hide a copy.
- **Description, 13-gram word overlap**: the row's description shares a run of 13 consecutive
  words (lowercased, punctuation ignored) with a benchmark's description. 13 is the window
  used for the GPT-3 and Codex-era decontamination of training corpora: long enough that a
  shared run is a copy rather than a common phrase ("return a list of the numbers that ..."),
  short enough to catch one sentence lifted from a longer statement. Most MBPP statements are
  a single sentence under 13 words; for those the whole statement must appear (at least
  ``min_description_words`` = 6 words, below which a statement is too generic to match on).
- **Code, 10-gram token overlap**: the row's solution contains at least ``code_overlap``
  (half) of the distinct 10-token windows of a benchmark's reference solution. Tokens are
  Python's own with names kept (comments, docstrings, annotations and layout dropped). Ten
  tokens are about one line of code, so a single shared window is common boilerplate
  (``for i in range(len(x)):`` is ten tokens); requiring half the reference's windows means
  long verbatim stretches. This check survives an added line or a changed constant, where
  the normalised check does not; the normalised check survives renaming, where this one does
  not. (Numbering names inside each window was tried and rejected: on HumanEval against
  MBPP it matched many unrelated tasks that merely share a loop shape.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from factory.hygiene.base import RowText
from factory.hygiene.benchmarks import (
    BenchmarkTask,
    load_benchmark_file,
    load_humaneval,
    load_mbpp,
)
from factory.hygiene.normalise import code_ngrams, normalised_code, normalised_functions, words
from factory.records import Drop, DropReason

NGram = tuple[str, ...]


class DecontaminationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = 1
    enabled: bool = True
    humaneval: bool = True
    mbpp: list[Path] = Field(default_factory=list)
    benchmark_files: list[Path] = Field(default_factory=list)
    description_ngram: int = Field(13, ge=4, le=50)
    min_description_words: int = Field(6, ge=1)
    code_ngram: int = Field(10, ge=3, le=100)
    code_overlap: float = Field(0.5, gt=0.0, le=1.0)


def load_tasks(config: DecontaminationConfig) -> list[BenchmarkTask]:
    tasks: list[BenchmarkTask] = []
    if config.humaneval:
        tasks += load_humaneval()
    for path in config.mbpp:
        tasks += load_mbpp(path)
    for path in config.benchmark_files:
        tasks += load_benchmark_file(path)
    return tasks


class Decontaminator:
    """Stage-shaped: ``check(row)`` says keep, or drop with ``benchmark:task_id``."""

    def __init__(self, tasks: Iterable[BenchmarkTask], config: DecontaminationConfig | None = None):
        self.config = config or DecontaminationConfig()
        self.tasks = list(tasks)
        self._normalised: dict[str, str] = {}
        self._long: dict[NGram, str] = {}
        self._short: dict[int, dict[NGram, str]] = {}
        self._code: dict[NGram, list[int]] = {}
        self._code_sizes: list[int] = []
        for index, task in enumerate(self.tasks):
            self._index(index, task)

    @classmethod
    def from_config(cls, config: DecontaminationConfig) -> Decontaminator:
        return cls(load_tasks(config) if config.enabled else [], config)

    @property
    def benchmarks(self) -> dict[str, int]:
        """Tasks checked against, per benchmark (for the dataset card)."""
        return dict(Counter(task.benchmark for task in self.tasks))

    def check(self, row: Any) -> Drop | None:
        """None keeps ``row``; a drop names the benchmark task it copies."""
        if not self.config.enabled or not self.tasks:
            return None
        candidate = RowText.of(row)
        return (
            self._check_normalised(candidate)
            or self._check_description(candidate)
            or self._check_code(candidate)
        )

    def _check_normalised(self, candidate: RowText) -> Drop | None:
        forms = [*normalised_functions(candidate.solution).items()]
        forms.append(("module", normalised_code(candidate.solution)))
        for name, form in forms:
            if form in self._normalised:
                return Drop.of(
                    DropReason.BENCHMARK_NORMALISED_CODE,
                    self._normalised[form],
                    f"{name} is the benchmark's solution up to names and layout",
                )
        return None

    def _check_description(self, candidate: RowText) -> Drop | None:
        text = words(candidate.description)
        lengths = [self.config.description_ngram, *sorted(self._short, reverse=True)]
        for length in lengths:
            table = self._long if length == self.config.description_ngram else self._short[length]
            for gram in _ngrams(text, length):
                if gram in table:
                    return Drop.of(
                        DropReason.BENCHMARK_DESCRIPTION,
                        table[gram],
                        f"{length}-gram of its description: {' '.join(gram)!r}",
                    )
        return None

    def _check_code(self, candidate: RowText) -> Drop | None:
        hits: Counter[int] = Counter()
        for gram in code_ngrams(candidate.solution, self.config.code_ngram):
            hits.update(self._code.get(gram, ()))
        best = max(hits, key=lambda i: hits[i] / self._code_sizes[i], default=None)
        if best is None:
            return None
        share = hits[best] / self._code_sizes[best]
        if share < self.config.code_overlap:
            return None
        return Drop.of(
            DropReason.BENCHMARK_CODE,
            self.tasks[best].key,
            f"{share:.0%} of its solution's {self.config.code_ngram}-token windows",
        )

    def _index(self, index: int, task: BenchmarkTask) -> None:
        cfg = self.config
        if task.solution:
            functions = normalised_functions(task.solution)
            chosen = [functions[name] for name in task.entry_points if name in functions]
            for form in chosen or [normalised_code(task.solution)]:
                self._normalised.setdefault(form, task.key)
            grams = code_ngrams(task.solution, cfg.code_ngram)
            for gram in grams:
                self._code.setdefault(gram, []).append(index)
            self._code_sizes.append(len(grams))
        else:
            self._code_sizes.append(0)
        text = words(task.description)
        if len(text) >= cfg.description_ngram:
            for gram in _ngrams(text, cfg.description_ngram):
                self._long.setdefault(gram, task.key)
        elif len(text) >= cfg.min_description_words:
            self._short.setdefault(len(text), {}).setdefault(tuple(text), task.key)


def _ngrams(tokens: list[str], n: int) -> list[NGram]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
