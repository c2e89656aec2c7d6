"""Bad input to ``codefactory generate`` / ``stats``: one clear line, exit 2, nothing spent.

Each case runs the real command in a subprocess; the LLM cases talk to a real local server
(or to a port where nothing listens).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from datasets import load_from_disk

from factory.llm.scripted_server import ScriptedLLMServer
from tests.support.cli import assert_one_line_error, codefactory
from tests.support.scripted_model import ScriptedModel
from tests.support.scripted_runs import MODEL

GOOD_TOPICS = """
name = "mine"
[[topics]]
name = "strings"
subtopics = ["palindromes"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def never_called(request):
    raise AssertionError("no completion may be requested")


def test_unreachable_endpoint(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    done = codefactory(
        "generate",
        "--base-url",
        url,
        "--model",
        MODEL,
        "--count",
        "1",
        "--out",
        str(tmp_path / "o"),
    )
    assert_one_line_error(done, "cannot reach the LLM server", url)
    assert not (tmp_path / "o").exists()


def test_bad_api_key(tmp_path):
    with ScriptedLLMServer(never_called, models=[MODEL], required_api_key="sk-good") as server:
        done = codefactory(
            "generate", "--base-url", server.base_url, "--model", MODEL, "--count", "1",
            "--out", str(tmp_path / "o"), "--api-key", "sk-bad",
        )  # fmt: skip
        assert server.requests == []
    assert_one_line_error(done, "refused the API key", "--api-key")
    assert "sk-bad" not in done.stderr
    assert not (tmp_path / "o").exists()


def test_unknown_model(tmp_path):
    with ScriptedLLMServer(never_called, models=["other-model"]) as server:
        done = codefactory(
            "generate", "--base-url", server.base_url, "--model", MODEL, "--count", "1",
            "--out", str(tmp_path / "o"),
        )  # fmt: skip
        assert server.requests == []
    assert_one_line_error(done, "does not serve model", "other-model", "--model")


def test_base_url_from_the_environment(tmp_path):
    with ScriptedLLMServer(never_called, models=["other-model"]) as server:
        done = codefactory(
            "generate", "--model", MODEL, "--count", "1", "--out", str(tmp_path / "o"),
            env_extra={"OPENAI_BASE_URL": server.base_url},
        )  # fmt: skip
        assert server.model_list_calls == 1
    assert_one_line_error(done, "does not serve model")


def test_no_endpoint_at_all(tmp_path):
    done = codefactory("generate", "--model", MODEL, "--count", "1", "--out", str(tmp_path / "o"))
    assert_one_line_error(done, "--base-url", "OPENAI_BASE_URL")


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--count", "0"), ("--count", "-3"), ("--max-repairs", "-1"), ("--temperature", "5")],
)
def test_invalid_numbers(tmp_path, flag, value):
    args = {"--count": "2", flag: value}
    done = codefactory(
        "generate", "--base-url", "http://127.0.0.1:9/v1", "--model", MODEL,
        "--out", str(tmp_path / "o"), *(item for pair in args.items() for item in pair),
    )  # fmt: skip
    assert_one_line_error(done, f"invalid {flag}")


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("missing.toml", None, "cannot read topics file"),
        ("broken.toml", "[[topics]\nname =", "not TOML"),
        ("broken.json", '{"topics": [', "not JSON"),
        ("empty.toml", "", "topics"),
        ("nosub.toml", '[[topics]]\nname = "x"\nsubtopics = []\n', "subtopics"),
        (
            "twice.json",
            '{"topics": [{"name": "a", "subtopics": ["s"]}, {"name": "a", "subtopics": ["t"]}]}',
            "repeated: a",
        ),
        (
            "level.json",
            '{"difficulties": ["trivial"], "topics": [{"name": "a", "subtopics": ["s"]}]}',
            "difficulties",
        ),
        ("binary.toml", b"\xff\xfe\x00garbage", "cannot read topics file"),
    ],
)
def test_unusable_topics_file(tmp_path, name, content, fragment):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    done = codefactory(
        "generate", "--base-url", "http://127.0.0.1:9/v1", "--model", MODEL, "--count", "1",
        "--out", str(tmp_path / "o"), "--topics", str(path),
    )  # fmt: skip
    assert_one_line_error(done, fragment, str(path))


def test_topics_file_that_is_a_directory(tmp_path):
    done = codefactory(
        "generate", "--base-url", "http://127.0.0.1:9/v1", "--model", MODEL, "--count", "1",
        "--out", str(tmp_path / "o"), "--topics", str(tmp_path),
    )  # fmt: skip
    assert_one_line_error(done, "cannot read topics file")


def test_stats_of_a_directory_that_is_no_dataset(tmp_path):
    assert_one_line_error(codefactory("stats", str(tmp_path)), "not a codefactory dataset")


@pytest.mark.docker
def test_generate_command_end_to_end_with_live_display(runner_image, tmp_path: Path):
    """The command's happy path: live counters on stderr, a JSON report on stdout."""
    topics = tmp_path / "topics.toml"
    topics.write_text(GOOD_TOPICS)
    with ScriptedLLMServer(ScriptedModel(["clean", "wrong_solution"]), models=[MODEL]) as server:
        done = codefactory(
            "generate", "--base-url", server.base_url, "--model", MODEL, "--count", "2",
            "--out", str(tmp_path / "o"), "--topics", str(topics), "--workers", "2",
            "--image", runner_image, "--no-gates", "--no-dedup",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "accepted" in done.stderr and "tokens" in done.stderr
    report = json.loads(done.stdout)
    assert report["splits"]["train"] == 2 and report["splits"]["failures"] == 0
    rows = load_from_disk(str(tmp_path / "o"))["train"]
    assert {row["topic"] for row in rows} == {"strings"}
    assert {row["provenance"]["taxonomy"] for row in rows} == {"mine"}
