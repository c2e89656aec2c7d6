"""The hygiene step of the generation loop: accepted rows are screened before they land in train.

    accepted row -> dedup (MinHash, then semantic when on) -> decontamination -> train
                       \\-> dropped                               \\-> dropped

A dropped row is kept in the store, in the ``dropped`` split, with its ``drop`` (reason, stage,
what it matched, detail), ``quality.near_duplicate_of`` or ``quality.contamination_match``, and
``failure_reason`` ``<reason>: <what it matched> (<detail>)`` for a human reader, so the run's
counts and the dataset card can say what was removed and why. It is never pushed to the Hub (see ``factory.publish.push``).

On resume the dedup index is rebuilt from the stored train rows, in their stored order, so
"the first one is kept" holds across runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from factory.hygiene.decontam import DecontaminationConfig, Decontaminator
from factory.hygiene.dedup import DedupConfig, Deduplicator
from factory.hygiene.semantic import SemanticDedupConfig, SemanticDeduplicator
from factory.records import Drop, ProblemRecord, QualityMetrics, Split
from factory.run_fingerprint import DecontaminationSettings, DedupSettings, HygieneSettings


class HygieneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dedup: DedupConfig = Field(default_factory=DedupConfig)
    decontamination: DecontaminationConfig = Field(default_factory=DecontaminationConfig)
    semantic: SemanticDedupConfig = Field(default_factory=SemanticDedupConfig)

    def fingerprint(self) -> HygieneSettings:
        """The settings that decide which rows a dataset keeps (stored with the run).

        Benchmark files are named by file name and content hash, so moving a file does not
        count as a change while editing it does.
        """
        dedup = self.dedup
        decontam = self.decontamination
        return HygieneSettings(
            dedup=(
                DedupSettings(threshold=dedup.threshold, num_perm=dedup.num_perm, seed=dedup.seed)
                if dedup.enabled
                else None
            ),
            decontamination=(
                DecontaminationSettings(
                    humaneval=decontam.humaneval,
                    mbpp=[_file_id(path) for path in decontam.mbpp],
                    benchmark_files=[_file_id(path) for path in decontam.benchmark_files],
                    description_ngram=decontam.description_ngram,
                    min_description_words=decontam.min_description_words,
                    code_ngram=decontam.code_ngram,
                    code_overlap=decontam.code_overlap,
                )
                if decontam.enabled
                else None
            ),
            semantic_dedup=self.semantic.threshold if self.semantic.enabled else None,
        )


class HygieneScreen:
    """Callable on a finished row: train rows come back unchanged or moved to ``dropped``."""

    def __init__(
        self,
        dedup: Deduplicator,
        decontaminator: Decontaminator,
        semantic: SemanticDeduplicator | None = None,
    ) -> None:
        self.dedup = dedup
        self.decontaminator = decontaminator
        self.semantic = semantic or SemanticDeduplicator(SemanticDedupConfig())

    @classmethod
    def load(cls, config: HygieneConfig) -> HygieneScreen:
        """Loads the benchmarks (raises InputFileError for a broken file); empty dedup index."""
        return cls(
            Deduplicator(config.dedup),
            Decontaminator.from_config(config.decontamination),
            SemanticDeduplicator(config.semantic),
        )

    def resume(self, train_rows: Iterable[ProblemRecord]) -> HygieneScreen:
        """Fills the dedup indexes with rows an earlier run already kept."""
        for row in train_rows:
            self.dedup.add(row)
            self.semantic.add(row)
        return self

    def __call__(self, record: ProblemRecord) -> ProblemRecord:
        if record.split != Split.TRAIN:
            return record
        drop = (
            self.dedup.check(record)
            or self.semantic.check(record)
            or self.decontaminator.check(record)
        )
        if drop is None:
            self.dedup.add(record)
            self.semantic.add(record)
            return record
        return dropped(record, drop)


def dropped(record: ProblemRecord, drop: Drop) -> ProblemRecord:
    quality = (record.quality or QualityMetrics()).model_copy()
    if drop.stage == "dedup":
        quality.near_duplicate_of = drop.matched
    elif drop.stage == "decontamination":
        quality.contamination_match = drop.matched
    return record.model_copy(
        update={
            "split": Split.DROPPED,
            "failure_reason": drop.describe(),
            "quality": quality,
            "drop": drop,
        }
    )


def _file_id(path: Path) -> str:
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    except OSError:
        digest = "unreadable"
    return f"{Path(path).name}@{digest}"
