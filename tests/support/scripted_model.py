"""A scripted "model" for the generation tests: it plays problem scenarios over real HTTP.

It dispatches on the request's ``response_format.json_schema.name`` (problem, solution,
tests, repair) and on the problem in the messages, and records what each request showed the
model so tests can check it (the tests request never sees the solution; the repair request
carries the code, the tests and the sandbox's report).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from factory.llm.scripted_server import ScriptedReply


@dataclass(frozen=True)
class Scenario:
    """One kind of problem, with the code the model writes for it at each stage.

    ``solutions``/``tests`` are the first drafts; ``repairs`` are the repair replies in order
    (target, code); past the end the last one repeats. ``faults`` maps a stage to replies sent
    before the good one (a ScriptedReply for HTTP errors, or text for a bad reply).
    """

    name: str
    entry_point: str
    description: str
    solution: str
    tests: str
    repairs: tuple[tuple[str, str], ...] = ()
    faults: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    fenced: bool = False


ADD_ONE = "def add_one(x: int) -> int:\n    return x + 1\n"
ADD_ONE_TESTS = (
    "from solution import add_one\n\n\ndef test_small():\n    assert add_one(1) == 2\n\n\n"
    "def test_negative():\n    assert add_one(-5) == -4\n"
)
CLAMP = "def clamp(x: int, low: int, high: int) -> int:\n    return max(low, min(x, high))\n"
CLAMP_WRONG = "def clamp(x: int, low: int, high: int) -> int:\n    return x\n"
CLAMP_TESTS = (
    "from solution import clamp\n\n\ndef test_inside():\n    assert clamp(5, 0, 10) == 5\n\n\n"
    "def test_below():\n    assert clamp(-3, 0, 10) == 0\n\n\n"
    "def test_above():\n    assert clamp(30, 0, 10) == 10\n"
)
SQUARE = "def square(x: int) -> int:\n    return x * x\n"
SQUARE_LOOP = "def square(x: int) -> int:\n    while True:\n        pass\n"
SQUARE_TESTS = (
    "from solution import square\n\n\ndef test_square():\n    assert square(3) == 9\n"
    "    assert square(-4) == 16\n"
)
VOWELS = (
    "def count_vowels(s: str) -> int:\n    return sum(1 for ch in s.lower() if ch in 'aeiou')\n"
)
VOWELS_TESTS_WRONG = (
    "from solution import count_vowels\n\n\ndef test_word():\n"
    "    assert count_vowels('banana') == 2\n"  # wrong: banana has 3 vowels
)
VOWELS_TESTS = (
    "from solution import count_vowels\n\n\ndef test_word():\n"
    "    assert count_vowels('banana') == 3\n\n\ndef test_case():\n"
    "    assert count_vowels('AEIOU') == 5\n"
)
LAST = "def last_item(items: list[int]) -> int:\n    return items[-1]\n"
LAST_WRONG = "def last_item(items: list[int]) -> int:\n    return items[0]\n"
LAST_TESTS = (
    "from solution import last_item\n\n\ndef test_last():\n    assert last_item([1, 2, 3]) == 3\n"
)

SCENARIOS = {
    "clean": Scenario(
        "clean",
        "add_one",
        "Return the integer x plus one, for any integer x.",
        ADD_ONE,
        ADD_ONE_TESTS,
    ),
    "wrong_solution": Scenario(
        "wrong_solution",
        "clamp",
        "Return x limited to the closed range [low, high]; low <= high is guaranteed.",
        CLAMP_WRONG,
        CLAMP_TESTS,
        repairs=(("solution", CLAMP),),
    ),
    "infinite_loop": Scenario(
        "infinite_loop",
        "square",
        "Return the square of the integer x, for any integer x.",
        SQUARE_LOOP,
        SQUARE_TESTS,
        repairs=(("solution", SQUARE),),
    ),
    "wrong_tests": Scenario(
        "wrong_tests",
        "count_vowels",
        "Return how many vowels (a, e, i, o, u, either case) the string s contains.",
        VOWELS,
        VOWELS_TESTS_WRONG,
        repairs=(("tests", VOWELS_TESTS),),
    ),
    "never_fixed": Scenario(
        "never_fixed",
        "last_item",
        "Return the last element of a non-empty list of integers.",
        LAST_WRONG,
        LAST_TESTS,
        repairs=(("solution", LAST_WRONG),),
    ),
    "fenced": Scenario(
        "fenced",
        "add_one",
        "Return the integer x plus one, for any integer x (fenced).",
        ADD_ONE,
        ADD_ONE_TESTS,
        fenced=True,
    ),
    "rate_limited": Scenario(
        "rate_limited",
        "add_one",
        "Return the integer x plus one (rate limited once).",
        ADD_ONE,
        ADD_ONE_TESTS,
        faults={"solution": (ScriptedReply(status=429, headers={"Retry-After": "1"}),)},
    ),
    "server_error": Scenario(
        "server_error",
        "add_one",
        "Return the integer x plus one (a server error once).",
        ADD_ONE,
        ADD_ONE_TESTS,
        faults={"tests": (ScriptedReply(status=500),)},
    ),
    "truncated": Scenario(
        "truncated",
        "add_one",
        "Return the integer x plus one (truncated reply once).",
        ADD_ONE,
        ADD_ONE_TESTS,
        faults={
            "solution": (ScriptedReply(content='{"code": "def add_one(x', finish_reason="length"),)
        },
    ),
    "gated": Scenario(
        "gated",
        "add_one",
        "Return the integer x plus one, for any integer x (gated).",
        ADD_ONE,
        ADD_ONE_TESTS,
        repairs=(("tests", ADD_ONE_TESTS + "\n\ndef test_zero():\n    assert add_one(0) == 1\n"),),
    ),
}
MAIN_SCENARIOS = [name for name in SCENARIOS if name != "gated"]

TITLE = re.compile(r"Problem: \[(?P<scenario>\w+)\] #(?P<n>\d+)")


class ScriptedModel:
    """Callable responder for ScriptedLLMServer, handing out scenarios in the given order.

    Problem requests take the next scenario (cycling); every later request finds its
    scenario by the title, ``[name] #n``, that the problem reply gave it.
    """

    def __init__(self, scenarios: list[str], *, delay_s: float = 0.0) -> None:
        self._order = itertools.cycle(scenarios)
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self.delay_s = delay_s
        self.calls: Counter[tuple[str, str]] = Counter()  # (stage, title) -> calls
        self.faults_left: dict[tuple[str, str], list[Any]] = {}
        self.repairs_done: dict[str, int] = defaultdict(int)
        self.violations: list[str] = []

    def __call__(self, request: dict[str, Any]) -> ScriptedReply:
        stage = request["response_format"]["json_schema"]["name"]
        messages = request["messages"]
        text = "\n".join(m["content"] for m in messages)
        with self._lock:
            if stage == "problem":
                return self._problem(messages)
            match = TITLE.search(text)
            if match is None:
                self.violations.append(f"{stage} request without a scripted problem title")
                return ScriptedReply(status=400)
            title = match.group(0).removeprefix("Problem: ")
            scenario = SCENARIOS[match["scenario"]]
            self.calls[(stage, title)] += 1
            fault = self._next_fault(stage, title, scenario)
            if fault is not None:
                return fault if isinstance(fault, ScriptedReply) else ScriptedReply(content=fault)
            if stage == "solution":
                return self._reply({"code": scenario.solution}, scenario)
            if stage == "tests":
                shown = [
                    scenario.solution,
                    *(code for side, code in scenario.repairs if side == "solution"),
                ]
                if any(code.strip() in text for code in shown):
                    self.violations.append(f"the tests request for {title} showed a solution")
                return self._reply({"code": scenario.tests}, scenario)
            if stage == "repair":
                return self._repair(title, scenario, text)
        self.violations.append(f"unknown stage {stage}")
        return ScriptedReply(status=400)

    def _problem(self, messages: list[dict[str, str]]) -> ScriptedReply:
        scenario = SCENARIOS[next(self._order)]
        n = next(self._counter)
        title = f"[{scenario.name}] #{n}"
        self.calls[("problem", title)] += 1
        signature = {
            "add_one": "def add_one(x: int) -> int:",
            "clamp": "def clamp(x: int, low: int, high: int) -> int:",
            "square": "def square(x: int) -> int:",
            "count_vowels": "def count_vowels(s: str) -> int:",
            "last_item": "def last_item(items: list[int]) -> int:",
        }[scenario.entry_point]
        body = {
            "title": title,
            "description": scenario.description + " The function must not print anything.",
            "entry_point": scenario.entry_point,
            "signature": signature,
            "difficulty": "easy",
            "topic": "math",
        }
        return self._reply(body, scenario)

    def _next_fault(self, stage: str, title: str, scenario: Scenario) -> Any:
        key = (stage, title)
        if key not in self.faults_left:
            self.faults_left[key] = list(scenario.faults.get(stage, ()))
        left = self.faults_left[key]
        return left.pop(0) if left else None

    def _repair(self, title: str, scenario: Scenario, text: str) -> ScriptedReply:
        for needed in ("Current solution.py", "Current test_solution.py", "status: "):
            if needed not in text:
                self.violations.append(f"the repair request for {title} lacks {needed!r}")
        if not scenario.repairs:  # nothing scripted: the model stands by its solution
            self.violations.append(f"unexpected repair request for {title}")
            return self._reply(
                {"target": "solution", "code": scenario.solution, "explanation": "no change"},
                scenario,
            )
        index = min(self.repairs_done[title], len(scenario.repairs) - 1)
        self.repairs_done[title] += 1
        target, code = scenario.repairs[index]
        return self._reply(
            {
                "target": target,
                "code": code,
                "explanation": f"fixed the {target} ({scenario.name})",
            },
            scenario,
        )

    def _reply(self, body: dict[str, Any], scenario: Scenario) -> ScriptedReply:
        text = json.dumps(body)
        if scenario.fenced:
            text = f"Sure! Here is the JSON you asked for:\n```json\n{text}\n```\nHope it helps."
        return ScriptedReply(content=text, delay_s=self.delay_s)
