"""A scripted model whose problems exercise dedup and decontamination through the real loop.

It answers the four stages over real HTTP (through ``ScriptedLLMServer``), dispatching on the
request's ``json_schema.name`` and on the ``Problem: <title>`` line later prompts carry. Each
scenario's tests are strong (several test functions and assertions, every line covered), so
the rows pass the quality gates too.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any

from factory.llm.scripted_server import ScriptedReply
from tests.support.hygiene_rows import (
    BALANCED_BRACKETS,
    HAS_CLOSE_ELEMENTS,
    MERGE_INTERVALS,
    RUN_LENGTH,
)

TITLE_LINE = re.compile(r"^Problem: (?P<title>.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Scenario:
    title: str
    row: dict
    tests: str
    first_solution: str | None = None  # a wrong draft the repair replaces
    repaired: str | None = None  # what every repair writes (default: the row's solution)

    def problem(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.row["description"],
            "entry_point": self.row["entry_point"],
            "signature": self.row["signature"],
            "difficulty": self.row["difficulty"],
            "topic": self.row["topic"],
        }


CLOSE_TESTS = """from solution import has_close_elements


def test_close_pair():
    assert has_close_elements([1.0, 2.8, 3.0, 4.0, 5.0, 2.0], 0.3)
    assert has_close_elements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3)


def test_no_close_pair():
    assert not has_close_elements([1.0, 2.0, 3.0], 0.5)
    assert not has_close_elements([1.0, 2.0, 5.9, 4.0, 5.0], 0.8)


def test_edges():
    assert not has_close_elements([], 1.0)
    assert not has_close_elements([1.0], 1.0)
    assert has_close_elements([1.0, 1.0], 0.1)
"""

RLE_TESTS = """from solution import run_length_encode


def test_runs():
    assert run_length_encode("aaab") == "a3b1"
    assert run_length_encode("abc") == "a1b1c1"


def test_empty_and_single():
    assert run_length_encode("") == ""
    assert run_length_encode("z") == "z1"


def test_long_run():
    assert run_length_encode("x" * 12) == "x12"
    assert run_length_encode("aabbaa") == "a2b2a2"
"""

INTERVALS_TESTS = """from solution import merge_intervals


def test_overlapping():
    assert merge_intervals([(1, 3), (2, 4)]) == [(1, 4)]
    assert merge_intervals([(5, 6), (1, 2), (2, 3)]) == [(1, 3), (5, 6)]


def test_disjoint_and_nested():
    assert merge_intervals([(1, 2), (4, 5)]) == [(1, 2), (4, 5)]
    assert merge_intervals([(1, 10), (2, 3)]) == [(1, 10)]


def test_empty():
    assert merge_intervals([]) == []
"""

INTERVALS_WRONG = "def merge_intervals(intervals):\n    return sorted(intervals)\n"

BRACKETS_TESTS = """from solution import is_balanced


def test_balanced():
    assert is_balanced("([]{})")
    assert is_balanced("")


def test_unbalanced():
    assert not is_balanced("(]")
    assert not is_balanced("((")
    assert not is_balanced(")")


def test_other_characters():
    assert not is_balanced("(a)")
"""

BRACKETS_WRONG = "def is_balanced(text):\n    return text.count('(') == text.count(')')\n"

SCENARIOS = {
    "close": Scenario("Close elements in a list", HAS_CLOSE_ELEMENTS, CLOSE_TESTS),
    "rle": Scenario("Run-length encoding", RUN_LENGTH, RLE_TESTS),
    "rle-again": Scenario("Run-length encode a string", RUN_LENGTH, RLE_TESTS),
    "rle-third": Scenario("Compress runs of characters", RUN_LENGTH, RLE_TESTS),
    "intervals": Scenario(
        "Merge overlapping intervals", MERGE_INTERVALS, INTERVALS_TESTS, INTERVALS_WRONG
    ),
    "brackets": Scenario(
        "Balanced brackets of three kinds",
        BALANCED_BRACKETS,
        BRACKETS_TESTS,
        BRACKETS_WRONG,
        repaired=BRACKETS_WRONG,
    ),
}


class HygieneModel:
    """Responder for ScriptedLLMServer: problem requests take the next scenario in ``order``."""

    def __init__(self, order: list[str]) -> None:
        self._order = iter(order)
        self._by_title = {scenario.title: scenario for scenario in SCENARIOS.values()}
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> ScriptedReply:
        stage = request["response_format"]["json_schema"]["name"]
        text = "\n".join(m["content"] for m in request["messages"])
        with self._lock:
            if stage == "problem":
                name = next(self._order, None)
                if name is None:
                    return ScriptedReply(status=400)  # more problems asked for than scripted
                return _json(SCENARIOS[name].problem())
        titles = [m["title"] for m in TITLE_LINE.finditer(text)]
        scenario = next((self._by_title[t] for t in titles if t in self._by_title), None)
        if scenario is None:
            return ScriptedReply(status=400)
        if stage == "solution":
            return _json({"code": scenario.first_solution or scenario.row["solution"]})
        if stage == "tests":
            return _json({"code": scenario.tests})
        if stage == "repair":
            code = scenario.repaired or scenario.row["solution"]
            return _json({"target": "solution", "code": code, "explanation": "fixed the logic"})
        return ScriptedReply(status=400)


def _json(body: dict[str, Any]) -> ScriptedReply:
    return ScriptedReply(content=json.dumps(body))
