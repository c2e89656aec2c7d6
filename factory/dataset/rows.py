"""A dataset directory's rows, from its store when it has one, else from its export.

``codefactory generate --out DIR`` leaves both: ``DIR/state/store.sqlite`` (the source of truth,
with the abandoned slots and the run's fingerprint) and the exported Hugging Face dataset. A
copied or downloaded dataset has only the export. Stats, the card and the report all read a
directory through :func:`dataset_rows`, so they agree on what "the rows" are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from factory.errors import ConfigError
from factory.records import AbandonedSlot, ProblemRecord
from factory.run_fingerprint import RunFingerprint


@dataclass(frozen=True)
class DatasetRows:
    source: Literal["store", "export"]
    records: Iterable[ProblemRecord]  # streamed, validated (old schema versions upgraded)
    abandoned: Iterable[AbandonedSlot]  # only a store keeps them
    config: RunFingerprint | None  # the run's, validated; None for an export


@contextlib.contextmanager
def dataset_rows(out_dir: Path) -> Iterator[DatasetRows]:
    """The rows of ``out_dir``, readable while the context is open.

    Raises:
        ConfigError: ``out_dir`` holds neither a store nor an exported dataset.
    """
    from factory.dataset.store import RunStore, store_path

    if store_path(out_dir).is_file():
        with RunStore.open_readonly(out_dir) as store:
            yield DatasetRows("store", store.iter_records(), store.iter_abandoned(), store.config())
    elif (out_dir / "dataset_dict.json").is_file():
        yield DatasetRows("export", _exported_rows(out_dir), (), None)
    else:
        raise ConfigError(
            f"{out_dir} is not a codefactory dataset (no state/store.sqlite or "
            "dataset_dict.json): give the --out directory of `codefactory generate`"
        )


def _exported_rows(out_dir: Path) -> Iterator[ProblemRecord]:
    from datasets import load_from_disk

    dataset = load_from_disk(str(out_dir))
    for split in dataset.values():
        for row in split:
            yield ProblemRecord.model_validate(row)
