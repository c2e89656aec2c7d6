"""``codefactory export``: a dataset's rows in a trainer's format, filtered by the solver's
pass rate, written as a saved Hugging Face dataset, a Parquet file or a JSONL file.

The output kind follows ``--out``'s suffix: ``.parquet`` (``load_dataset("parquet", ...)``),
``.jsonl`` / ``.json`` (``load_dataset("json", ...)``), anything else a directory written by
``save_to_disk`` with the split as its one split (``load_from_disk``). The file is written next
to its final name and renamed into place, so an interrupted export leaves no half file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from factory.dataset.rows import dataset_rows
from factory.errors import ConfigError
from factory.records import Split
from factory.training.formats import FEATURES, Format, training_row
from factory.training.labels import read_labels

EXPORTABLE = (Split.TRAIN, Split.REJECTED)  # rows whose solution passed its tests


class ExportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Format
    out: Path
    split: Split = Split.TRAIN
    min_pass_rate: float | None = Field(None, ge=0.0, le=1.0)
    max_pass_rate: float | None = Field(None, ge=0.0, le=1.0)
    with_tests: bool = Field(False, description="sft: the tests as a second file in the answer")

    @model_validator(mode="after")
    def _check(self) -> ExportConfig:
        if self.split not in EXPORTABLE:
            raise ValueError(
                f"split {self.split.value!r} holds no passing solution: export "
                f"{' or '.join(s.value for s in EXPORTABLE)}"
            )
        low, high = self.min_pass_rate, self.max_pass_rate
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_pass_rate {low} is above max_pass_rate {high}")
        if self.with_tests and self.format != "sft":
            raise ValueError("with_tests applies to the sft format only")
        return self

    @property
    def filters_pass_rate(self) -> bool:
        return self.min_pass_rate is not None or self.max_pass_rate is not None


class ExportResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    out: str
    format: Format
    rows: int
    skipped_unlabelled: int = Field(0, description="rows without a pass rate, left out")
    skipped_pass_rate: int = Field(0, description="rows outside the pass-rate range")


def export_training(dataset_dir: Path, config: ExportConfig) -> ExportResult:
    """Writes the export; raises ConfigError for a dataset or filter that cannot be exported."""
    from datasets import Dataset, DatasetDict

    labels = read_labels(dataset_dir)
    if config.filters_pass_rate and not labels:
        raise ConfigError(
            f"{dataset_dir} has no pass rates to filter on: run "
            f"`codefactory label {dataset_dir} --base-url URL --model NAME` first"
        )
    rows, unlabelled, outside = [], 0, 0
    with dataset_rows(dataset_dir) as source:
        for record in source.records:
            if record.split != config.split:
                continue
            label = labels.get(record.id)
            if config.filters_pass_rate:
                if label is None or label.pass_rate is None:
                    unlabelled += 1
                    continue
                low, high = config.min_pass_rate, config.max_pass_rate
                if (low is not None and label.pass_rate < low) or (
                    high is not None and label.pass_rate > high
                ):
                    outside += 1
                    continue
            rows.append(
                training_row(
                    config.format,
                    record,
                    label,
                    index=len(rows),
                    data_source=f"codefactory/{dataset_dir.resolve().name}",
                    with_tests=config.with_tests,
                )
            )
    features = FEATURES[config.format]
    dataset = Dataset.from_dict({name: [row[name] for row in rows] for name in features}, features)
    out = config.out
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    _remove(partial)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        dataset.to_parquet(str(partial))
    elif suffix in (".jsonl", ".json"):
        dataset.to_json(str(partial), lines=True, force_ascii=False)
    else:
        DatasetDict({config.split.value: dataset}).save_to_disk(str(partial))
    _remove(out)
    partial.replace(out)
    return ExportResult(
        out=str(out),
        format=config.format,
        rows=len(rows),
        skipped_unlabelled=unlabelled,
        skipped_pass_rate=outside,
    )


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
