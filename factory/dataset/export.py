"""Publishing the store as a Hugging Face dataset in the same directory.

Layout of ``--out DIR`` once exported::

    DIR/dataset_dict.json      splits index, read by datasets.load_from_disk(DIR)
    DIR/train/                 Arrow shards + dataset_info.json + state.json (save_to_disk)
    DIR/failures/
    DIR/state/store.sqlite     the durable store: the source of truth, written during the run
    DIR/state/lock             held by the run writing to DIR
    DIR/state/export/          scratch space while exporting (absent otherwise)

The store is the only thing a run writes while it works; the split directories are derived
from it, rebuilt in full at the end of a run (and on a rerun that finds nothing left to do),
so an export interrupted half-way is repaired by running the same command again. Each split
is written to scratch space first and then renamed into place, and ``dataset_dict.json`` is
replaced last. Rows stream from SQLite to Arrow in batches, so memory stays flat.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa

from factory.atomic import write_json_atomically
from factory.dataset.features import features_for
from factory.dataset.store import RunStore, state_dir
from factory.records import ProblemRecord, Split

BATCH_ROWS = 256
SCRATCH = "export"


def export_dataset(store: RunStore, out_dir: Path) -> dict[str, int]:
    """Rebuilds ``out_dir``'s split directories from ``store``; returns rows per split."""
    import datasets
    from datasets import Dataset, DatasetInfo

    features = features_for(ProblemRecord)
    scratch = state_dir(out_dir) / SCRATCH
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "new").mkdir(parents=True)
    (scratch / "old").mkdir()
    bars_were_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    counts: dict[str, int] = {}
    try:
        for split in Split:
            arrow_file = scratch / f"{split.value}.arrow"
            counts[split.value] = _write_arrow(
                arrow_file, features.arrow_schema, store.iter_records(split)
            )
            dataset = Dataset.from_file(str(arrow_file), info=DatasetInfo(features=features))
            dataset.save_to_disk(
                str(scratch / "new" / split.value),
                num_shards=1 if counts[split.value] == 0 else None,
            )
            del dataset
        for split in Split:
            final = out_dir / split.value
            if final.exists():
                final.rename(scratch / "old" / split.value)
            (scratch / "new" / split.value).rename(final)
        write_json_atomically(out_dir / "dataset_dict.json", {"splits": [s.value for s in Split]})
    finally:
        if bars_were_enabled:
            datasets.enable_progress_bars()
    shutil.rmtree(scratch, ignore_errors=True)
    return counts


def _write_arrow(path: Path, schema: pa.Schema, records: Iterable[ProblemRecord]) -> int:
    rows = 0
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, schema) as writer:
        for batch in _batches(records):
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))
            rows += len(batch)
        if rows == 0:
            writer.write_table(schema.empty_table())
    return rows


def _batches(records: Iterable[ProblemRecord]) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for record in records:
        batch.append(record.model_dump(mode="json"))
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch
