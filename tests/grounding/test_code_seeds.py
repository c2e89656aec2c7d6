"""Seed snippets from real files, JSONL and a saved dataset: extraction, filters, provenance."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset

from factory.errors import ConfigError, InputFileError
from factory.grounding.code_seeds import extract_snippets, load_seed_pool
from factory.hygiene.benchmarks import task_from_record
from factory.hygiene.decontam import Decontaminator
from tests.support.seed_code import INVENTORY, TEXT_UTILS, USABLE, write_seed_dir


def test_a_directory_gives_its_functions_and_classes_trivial_huge_and_copies_skipped(tmp_path):
    pool = load_seed_pool([write_seed_dir(tmp_path / "src")])
    assert {snippet.name for snippet in pool.snippets} == USABLE
    assert pool.skipped == {"trivial": 1, "huge": 1, "duplicate": 1}
    by_name = {snippet.name: snippet for snippet in pool.snippets}
    assert by_name["Inventory"].kind == "class"
    assert by_name["Inventory"].source == "src/pkg/inventory.py"
    assert by_name["Inventory"].code == INVENTORY
    # the first of the two copies in path order
    assert by_name["slugify"].source == "src/pkg/copy_of_slugify.py"
    assert len(pool.sources) == 1 and pool.sources[0].startswith("src@")


def test_a_file_without_definitions_is_cut_into_windows():
    script = "\n".join(f"total_{i} = {i} * 2" for i in range(45)) + "\n"
    windows = extract_snippets(script)
    assert [kind for kind, _, _ in windows] == ["window", "window"]
    assert windows[0][2].count("\n") == 30


def test_jsonl_rows_carry_their_row_and_licence(tmp_path):
    path = tmp_path / "snippets.jsonl"
    rows = [
        {"content": TEXT_UTILS, "license": "mit"},
        {"content": INVENTORY, "licence": "apache-2.0"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    pool = load_seed_pool([path])
    found = {snippet.name: (snippet.source, snippet.licence) for snippet in pool.snippets}
    assert found == {
        "slugify": ("snippets.jsonl#1", "mit"),
        "wrap_words": ("snippets.jsonl#1", "mit"),
        "parse_pairs": ("snippets.jsonl#1", "mit"),
        "Inventory": ("snippets.jsonl#2", "apache-2.0"),
    }


def test_a_saved_dataset_is_read_through_its_code_column(tmp_path):
    saved = tmp_path / "hf"
    Dataset.from_dict({"code": [INVENTORY], "license": ["bsd-3-clause"]}).save_to_disk(str(saved))
    pool = load_seed_pool([saved], column="code")
    assert [(s.name, s.source, s.licence) for s in pool.snippets] == [
        ("Inventory", "hf#0", "bsd-3-clause")
    ]
    with pytest.raises(InputFileError, match=r"no column 'content'.*--seed-column"):
        load_seed_pool([saved])


def test_a_snippet_copied_from_a_benchmark_is_skipped_and_counted(tmp_path):
    source = write_seed_dir(tmp_path / "src")
    wrap = TEXT_UTILS[TEXT_UTILS.index("def wrap_words") : TEXT_UTILS.index("def parse_pairs")]
    task = task_from_record(
        {"task_id": "wrap/1", "description": "Wrap words to a width.", "solution": wrap},
        "mybench",
        0,
    )
    pool = load_seed_pool([source], decontaminator=Decontaminator([task]))
    assert {snippet.name for snippet in pool.snippets} == USABLE - {"wrap_words"}
    assert pool.skipped["benchmark"] == 1


def test_missing_and_empty_sources_are_one_line_errors(tmp_path):
    with pytest.raises(InputFileError, match=r"not found"):
        load_seed_pool([tmp_path / "nowhere"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match=r"holds no .py file"):
        load_seed_pool([tmp_path / "empty"])
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "a.py").write_text("def f(x):\n    return x\n")
    with pytest.raises(ConfigError, match=r"no usable snippet.*1 trivial"):
        load_seed_pool([tmp_path / "tiny"])
