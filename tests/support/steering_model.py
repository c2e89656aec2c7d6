"""A scripted model for steered runs: seed snippets, personas, focus, a judge, evolve.

Every problem asks for ``add_offset(x) = x + n`` with its own n (its title says n), so any
number of problems pass the sandbox. The problem it writes names the snippet and persona its
request showed; the ``vague`` problem numbers get a statement the judge scores 2. Evolve
requests get, in the order they arrive, the variants of ``evolve_kinds``: ``harder`` (a cap at
100 the parent's solution fails), ``same`` (reworded, same behaviour: the parent's solution
passes its tests), ``unchanged`` (the parent's statement back) and ``deeper`` (a rewording of a
capped variant, which its parent's solution still passes).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from typing import Any

from factory.llm.scripted_server import ScriptedReply

TITLE = re.compile(r"Offset (\d+)( capped| restated)?")
SIGNATURE = "def add_offset(x: int) -> int:"
VAGUE = "Do the thing with the number x, as appropriate, in the usual way for such numbers."


def solution(n: int, capped: bool) -> str:
    body = f"min(x + {n}, 100)" if capped else f"x + {n}"
    return f"def add_offset(x: int) -> int:\n    return {body}\n"


def tests(n: int, capped: bool) -> str:
    checks = [f"assert add_offset(1) == {1 + n}", f"assert add_offset(-5) == {-5 + n}"]
    if capped:
        checks.append("assert add_offset(1000) == 100")
    body = "\n    ".join(checks)
    return f"from solution import add_offset\n\n\ndef test_offset():\n    {body}\n"


class SteeringModel:
    def __init__(self, *, vague: set[int] = frozenset(), evolve_kinds=()) -> None:
        self._numbers = itertools.count(1)
        self._evolve = iter(evolve_kinds)
        self._lock = threading.Lock()
        self.problem_requests: list[str] = []
        self.judged: list[str] = []
        self.vague = set(vague)

    def __call__(self, request: dict[str, Any]) -> ScriptedReply:
        stage = request["response_format"]["json_schema"]["name"]
        text = "\n".join(message["content"] for message in request["messages"])
        with self._lock:
            if stage == "problem":
                return self._problem(text)
            if stage == "concepts":
                return _reply({"concepts": "string splitting, dictionaries"})
            if stage == "judge":
                self.judged.append(text)
                if VAGUE in text:
                    return _reply({"score": "2", "reason": "It never says what to compute."})
                return _reply({"score": "5", "reason": "Clear, complete and tested."})
            if stage == "evolve":
                return self._variant(text)
        match = TITLE.search(text)
        assert match, f"{stage} request without a scripted title"
        n, capped = int(match[1]), match[2] == " capped"
        if stage == "solution":
            return _reply({"code": solution(n, capped)})
        if stage == "tests":
            return _reply({"code": tests(n, capped)})
        return ScriptedReply(status=400)

    def _problem(self, text: str) -> ScriptedReply:
        self.problem_requests.append(text)
        n = next(self._numbers)
        snippet = re.search(r"```python\n(?:def|class) (\w+)", text)
        persona = re.search(r"audience or application domain: (.+?)\. Its story", text)
        description = (
            VAGUE
            if n in self.vague
            else f"Return the integer x plus {n}, for any integer x."
            + (f" Inspired by {snippet[1]}." if snippet else "")
            + (f" Written for {persona[1]}." if persona else "")
        )
        return _reply(
            {
                "title": f"Offset {n}",
                "description": description,
                "entry_point": "add_offset",
                "signature": SIGNATURE,
                "difficulty": "easy",
                "topic": "numbers",
            }
        )

    def _variant(self, text: str) -> ScriptedReply:
        n = int(TITLE.search(text)[1])
        kind = next(self._evolve)
        original = re.search(r"Topic: .*?\n\n(.*?)\n\nSignature:", text, re.S)[1]
        variant = {
            "harder": (f"Offset {n} capped", f"Return x plus {n}, but never more than 100."),
            "same": (f"Offset {n} restated", f"Add {n} to the integer x and return the sum."),
            "unchanged": (f"Offset {n} again", original),
            "deeper": (
                f"Offset {n} capped deeper",
                f"Return x plus {n}, capped at 100, for an integer x of any size.",
            ),
        }[kind]
        return _reply(
            {
                "title": variant[0],
                "description": variant[1],
                "entry_point": "add_offset",
                "signature": SIGNATURE,
                "difficulty": "medium",
                "topic": "numbers",
            }
        )


def _reply(body: dict[str, Any]) -> ScriptedReply:
    return ScriptedReply(content=json.dumps(body))
