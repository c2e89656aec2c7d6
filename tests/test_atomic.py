"""A file replaced atomically is the old one or the new one, never a mix, and leaves no litter."""

from __future__ import annotations

import json

from factory.atomic import write_json_atomically, write_text_atomically


def test_a_file_is_created_then_replaced_whole(tmp_path):
    path = tmp_path / "summary.json"
    write_text_atomically(path, "first\n")
    assert path.read_text() == "first\n"
    write_json_atomically(path, {"splits": ["train"]})
    assert json.loads(path.read_text()) == {"splits": ["train"]}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_a_temporary_file_left_by_a_killed_writer_is_overwritten(tmp_path):
    path = tmp_path / "run.json"
    (tmp_path / "run.json.tmp").write_text('{"half": ')
    write_text_atomically(path, "{}")
    assert path.read_text() == "{}" and not (tmp_path / "run.json.tmp").exists()
