"""The durable store and the export built from it (real SQLite files, real datasets)."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from datasets import load_from_disk
from rich.console import Console

from factory.dataset.export import export_dataset
from factory.dataset.stats import compute_stats, render_stats, stats_for_dir
from factory.dataset.store import RunStore, StoreLocked
from factory.errors import ConfigError
from factory.hygiene.stage import HygieneConfig
from factory.quality.config import QualityConfig
from factory.records import ProblemRecord, Split
from factory.run_fingerprint import RunFingerprint
from tests.support.records import FINGERPRINT as CONFIG
from tests.support.records import GENERATION, abandoned, record


def test_commits_survive_reopening_and_stream_in_slot_order(tmp_path):
    with RunStore.open(tmp_path, CONFIG) as store:
        for slot in (3, 0, 2):
            assert store.commit(record(slot, Split.TRAIN if slot else Split.FAILURES))
        store.commit(abandoned(1))
    with RunStore.open(tmp_path, CONFIG) as store:
        assert [r.provenance.slot for r in store.iter_records()] == [0, 2, 3]
        assert [r.provenance.slot for r in store.iter_records(Split.TRAIN)] == [2, 3]
        assert [a.slot for a in store.iter_abandoned()] == [1]
        assert [store.is_done(slot) for slot in range(5)] == [True, True, True, True, False]
        assert store.counts()["train"] == 2 and store.counts()["abandoned"] == 1
        assert store.problems_done() == 3


def test_a_slot_is_never_stored_twice(tmp_path):
    with RunStore.open(tmp_path, CONFIG) as store:
        store.commit(record(0))
        with pytest.raises(sqlite3.IntegrityError):
            store.commit(record(0, title="Another title"))
        assert store.problems_done() == 1


def test_the_same_problem_in_another_slot_is_kept_out_as_abandoned(tmp_path):
    with RunStore.open(tmp_path, CONFIG) as store:
        assert store.commit(record(0, title="Same"))
        assert not store.commit(record(1, title="Same"))
        assert store.problems_done() == 1
        (slot,) = store.iter_abandoned()
        assert slot.slot == 1 and "duplicate" in slot.reason


def test_titles_are_looked_up_loosely_and_recent_ones_listed(tmp_path):
    with RunStore.open(tmp_path, CONFIG) as store:
        store.commit(record(0, title="Sum of  Digits!", topic="math"))
        store.commit(record(1, title="Reverse words", topic="strings"))
        store.commit(record(2, title="Count primes", topic="math"))
        assert store.title_taken("sum of digits")
        assert not store.title_taken("sum of squares")
        assert store.recent_titles("math", 5) == ["Count primes", "Sum of  Digits!"]
        assert store.recent_titles("math", 1) == ["Count primes"]


def test_a_different_config_is_refused_once_rows_exist(tmp_path):
    with RunStore.open(tmp_path, CONFIG):
        pass
    changed = CONFIG.model_copy(
        update={"generation": GENERATION.model_copy(update={"model": "m2"})}
    )
    with RunStore.open(tmp_path, changed) as store:  # no rows yet: nothing to mix up
        store.commit(record(0))
    with pytest.raises(ConfigError, match=r"\(generation.model: m2 -> m\): rerun"):
        RunStore.open(tmp_path, CONFIG)
    with RunStore.open(tmp_path, CONFIG, force_config=True) as store:
        assert store.config() == CONFIG
    # the forced configuration is now the run's: the same flags resume, the old ones are refused
    with RunStore.open(tmp_path, CONFIG) as store:
        assert store.config() == CONFIG and store.problems_done() == 1
    with pytest.raises(ConfigError, match=r"\(generation.model: m -> m2\): rerun"):
        RunStore.open(tmp_path, changed)


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    with RunStore.open(tmp_path, CONFIG), pytest.raises(StoreLocked, match="pid"):
        RunStore.open(tmp_path, CONFIG)
    RunStore.open(tmp_path, CONFIG).close()  # released on close


def test_readers_see_commits_while_a_run_writes(tmp_path):
    with RunStore.open(tmp_path, CONFIG) as writer:
        writer.commit(record(0))
        with RunStore.open_readonly(tmp_path) as reader:
            assert reader.problems_done() == 1
            writer.commit(record(1))
            assert reader.problems_done() == 2


def test_export_gives_every_split_with_one_schema_even_when_empty(tmp_path):
    with RunStore.open(tmp_path, CONFIG) as store:
        counts = export_dataset(store, tmp_path)
        assert counts["train"] == 0
        empty = load_from_disk(str(tmp_path))
        assert {"train", "failures"} <= set(empty)
        assert empty["train"].num_rows == 0
        assert empty["train"].features == empty["failures"].features
        for slot in range(600):  # more than one Arrow batch
            store.commit(record(slot, Split.FAILURES if slot % 3 == 0 else Split.TRAIN))
        export_dataset(store, tmp_path)
    dataset = load_from_disk(str(tmp_path))
    assert dataset["train"].num_rows == 400 and dataset["failures"].num_rows == 200
    first = ProblemRecord.model_validate(dataset["failures"][0])
    assert first == record(0, Split.FAILURES)
    assert not (tmp_path / "state" / "export").exists()
    assert (tmp_path / "state" / "store.sqlite").exists()


def test_stats_from_the_store_and_from_a_copied_dataset_agree(tmp_path):
    store_dir, copy_dir = tmp_path / "run", tmp_path / "copy"
    with RunStore.open(store_dir, CONFIG) as store:
        for slot in range(6):
            store.commit(record(slot, Split.FAILURES if slot == 5 else Split.TRAIN))
        store.commit(abandoned(6))
        export_dataset(store, store_dir)
    shutil.copytree(store_dir, copy_dir, ignore=shutil.ignore_patterns("state"))
    from_store, from_copy = stats_for_dir(store_dir), stats_for_dir(copy_dir)
    assert from_store.problems == from_copy.problems == 6
    assert from_store.acceptance_rate == pytest.approx(5 / 6)
    assert from_store.abandoned == 1 and from_copy.abandoned == 0
    assert from_store.tokens["problem"].reasks == 2  # the abandoned slot's cost counts
    assert from_store.failure_statuses == {"failed": 1}
    assert from_store.config == CONFIG and from_copy.config is None  # the export has no store
    console = Console(record=True, width=120)
    render_stats(from_store, console)
    shown = console.export_text()
    assert "10 s, 512 MiB per run" in shown and "up to 3 repair rounds" in shown


def test_stats_of_nothing():
    stats = compute_stats([])
    assert stats.problems == 0 and stats.acceptance_rate == 0.0


# What `codefactory generate` stored as the run's configuration before the fingerprint had
# sub-models (fingerprint layout 1): one flat dict, with the gates' and hygiene's settings.
FLAT_CONFIG = {
    "schema_version": 1,
    "model": "m",
    "temperature": 0.8,
    "max_tokens": 2048,
    "seed": 0,
    "max_repairs": 3,
    "max_reasks": 2,
    "few_shot": 2,
    "prompt_version": "v1",
    "prompt_hash": "p" * 64,
    "taxonomy_hash": "t" * 64,
    "sandbox_timeout_s": 10.0,
    "sandbox_memory_mb": 512,
    "quality": {
        "enabled": True,
        "fail_fast": True,
        "max_mutants": 30,
        "min_asserts": 3,
        "min_branch_coverage": 0.0,
        "min_coverage": 0.9,
        "min_mutation_score": 0.7,
        "min_tests": 3,
        "mutant_timeout_s": 5.0,
        "seed": 0,
    },
    "hygiene": {
        "dedup": {"num_perm": 128, "seed": 1, "threshold": 0.85},
        "decontamination": {
            "benchmark_files": [],
            "code_ngram": 10,
            "code_overlap": 0.5,
            "description_ngram": 13,
            "humaneval": True,
            "mbpp": ["mbpp.jsonl@0123456789ab"],
            "min_description_words": 6,
        },
    },
}


def store_written_with_a_flat_config(out) -> None:
    with RunStore.open(out, CONFIG) as store:
        store.commit(record(0))
    with sqlite3.connect(out / "state" / "store.sqlite") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (json.dumps(FLAT_CONFIG),))


def test_a_store_written_with_the_flat_config_loads_and_resumes(tmp_path):
    store_written_with_a_flat_config(tmp_path)
    same = RunFingerprint.model_validate(
        {
            "row_schema_version": 1,
            "generation": GENERATION,
            "sandbox": {"timeout_s": 10.0, "memory_mb": 512},
            "quality": QualityConfig(),
            "hygiene": HygieneConfig(
                decontamination={"mbpp": [tmp_path / "mbpp.jsonl"]}
            ).fingerprint(),
        }
    )
    same = same.model_copy(
        update={
            "hygiene": same.hygiene.model_copy(
                update={
                    "decontamination": same.hygiene.decontamination.model_copy(
                        update={"mbpp": ["mbpp.jsonl@0123456789ab"]}
                    )
                }
            )
        }
    )
    with RunStore.open_readonly(tmp_path) as reader:
        stored = reader.config()
    assert stored == same
    assert stored.generation.model == "m" and stored.sandbox.timeout_s == 10.0
    assert stored.quality.min_coverage == 0.9 and stored.hygiene.dedup.threshold == 0.85
    with RunStore.open(tmp_path, same) as store:  # the same settings: resumed, not refused
        store.commit(record(1))
        assert store.problems_done() == 2

    stricter = same.model_copy(update={"quality": QualityConfig(min_coverage=0.5)})
    with pytest.raises(ConfigError) as refused:
        RunStore.open(tmp_path, stricter)
    assert "(quality.min_coverage: 0.9 -> 0.5)" in str(refused.value)
    assert "--force-config" in str(refused.value)
    ungated = same.model_copy(update={"quality": None})
    with pytest.raises(ConfigError, match=r"\(quality: on -> off\)"):
        RunStore.open(tmp_path, ungated)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ({**FLAT_CONFIG, "sandbox_cpus": 2}, "unreadable"),
        ({"fingerprint_version": 3, "generation": {}}, "newer codefactory"),
        ("[1, 2]", "unreadable"),
    ],
)
def test_a_stored_config_that_does_not_validate_is_one_clear_error(tmp_path, stored, message):
    store_written_with_a_flat_config(tmp_path)
    text = stored if isinstance(stored, str) else json.dumps(stored)
    with sqlite3.connect(tmp_path / "state" / "store.sqlite") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'config'", (text,))
    with pytest.raises(ConfigError, match=message), RunStore.open(tmp_path, CONFIG):
        pass
