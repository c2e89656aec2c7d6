"""The run's configuration in the store: checked when the store is opened, recorded only once
the run goes ahead (a forced change refused later by the endpoint changes nothing)."""

from __future__ import annotations

import pytest

from factory.dataset.store import RunStore
from factory.errors import ConfigError
from tests.support.records import FINGERPRINT, GENERATION, record

HOTTER = FINGERPRINT.model_copy(
    update={"generation": GENERATION.model_copy(update={"temperature": 1.2})}
)


def test_a_forced_configuration_waits_until_the_run_goes_ahead(tmp_path):
    with RunStore.open(tmp_path, FINGERPRINT) as store:
        store.commit(record(0))
    with RunStore.open(tmp_path, HOTTER, force_config=True, defer_record=True) as store:
        assert store.config() == FINGERPRINT  # checked, not yet recorded
    with RunStore.open(tmp_path, FINGERPRINT) as store:  # so the first settings still resume
        assert store.config() == FINGERPRINT


def test_the_first_commit_records_a_deferred_configuration(tmp_path):
    with RunStore.open(tmp_path, FINGERPRINT) as store:
        store.commit(record(0))
    with RunStore.open(tmp_path, HOTTER, force_config=True, defer_record=True) as store:
        store.commit(record(1))
        assert store.config() == HOTTER
    with pytest.raises(ConfigError, match=r"generation.temperature: 1.2 -> 0.8"):
        RunStore.open(tmp_path, FINGERPRINT)


def test_a_refused_configuration_is_refused_before_anything_is_deferred(tmp_path):
    with RunStore.open(tmp_path, FINGERPRINT) as store:
        store.commit(record(0))
    with pytest.raises(ConfigError, match="--force-config"):
        RunStore.open(tmp_path, HOTTER, defer_record=True)
