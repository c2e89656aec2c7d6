"""A directory's rows come from its store, else from its export, the same either way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from factory.dataset.export import export_dataset
from factory.dataset.rows import dataset_rows
from factory.dataset.stats import stats_for_dir
from factory.dataset.store import RunStore
from factory.errors import ConfigError

STORE_V1 = Path(__file__).parent.parent / "data" / "store_v1.sqlite"


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A run's directory with its store and its export."""
    out = tmp_path / "run"
    (out / "state").mkdir(parents=True)
    shutil.copy(STORE_V1, out / "state" / "store.sqlite")
    with RunStore.open_readonly(out) as store:
        export_dataset(store, out)
    return out


def test_the_store_is_read_first_and_an_export_alone_gives_the_same_rows(run_dir, tmp_path):
    with dataset_rows(run_dir) as rows:
        assert rows.source == "store" and rows.config is not None
        from_store = sorted(rows.records, key=lambda record: record.id)
    copied = tmp_path / "copied"
    shutil.copytree(run_dir, copied, ignore=shutil.ignore_patterns("state"))
    with dataset_rows(copied) as rows:
        assert rows.source == "export" and rows.config is None and list(rows.abandoned) == []
        from_export = sorted(rows.records, key=lambda record: record.id)
    assert len(from_store) == 4 and from_export == from_store
    from_the_export, from_the_store = stats_for_dir(copied), stats_for_dir(run_dir)
    assert from_the_export.config is None and from_the_store.config is not None
    assert from_the_export.model_dump(exclude={"config"}) == from_the_store.model_dump(
        exclude={"config"}
    )


def test_a_directory_with_neither_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="is not a codefactory dataset"), dataset_rows(tmp_path):
        pass
