"""Taxonomy files: the default, a user's in TOML or JSON, and what is refused."""

from __future__ import annotations

import json

import pytest

from factory.errors import InputFileError
from problems import Difficulty, load_taxonomy


def test_default_taxonomy_is_broad():
    taxonomy = load_taxonomy()
    names = {topic.name for topic in taxonomy.topics}
    assert {"algorithms", "strings", "data structures", "math", "parsing"} <= names
    assert taxonomy.difficulties == tuple(Difficulty)
    assert all(len(topic.subtopics) >= 5 for topic in taxonomy.topics)


def test_user_taxonomy_in_json_and_toml_hash_alike(tmp_path):
    data = {"name": "mine", "topics": [{"name": "strings", "subtopics": ["a", "b"]}]}
    (tmp_path / "t.json").write_text(json.dumps(data))
    (tmp_path / "t.toml").write_text(
        'name = "mine"\n[[topics]]\nname = "strings"\nsubtopics = ["a", "b"]\n'
    )
    (tmp_path / "t.txt").write_text(json.dumps(data))  # no suffix hint: JSON then TOML
    hashes = {load_taxonomy(tmp_path / name).hash for name in ("t.json", "t.toml", "t.txt")}
    assert len(hashes) == 1 and hashes != {load_taxonomy().hash}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"topics": []}', "topics"),
        ('{"topics": [{"name": " ", "subtopics": ["a"]}]}', "blank"),
        ('{"topics": [{"name": "a", "subtopics": ["x", "x"]}]}', "distinct"),
        ('{"topics": [{"name": "a", "subtopics": ["x"], "weight": 2}]}', "weight"),
        (
            '{"difficulties": ["easy", "easy"], "topics": [{"name": "a", "subtopics": ["x"]}]}',
            "distinct",
        ),
        ("[1, 2]", "topics"),
    ],
)
def test_invalid_taxonomies_name_the_file_and_the_problem(tmp_path, content, fragment):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputFileError) as error:
        load_taxonomy(path)
    message = str(error.value)
    assert str(path) in message and fragment in message and "\n" not in message
