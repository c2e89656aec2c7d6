"""The stages through the real openai client and a scripted endpoint: what is asked, how
replies are parsed, when the model is asked again, and what it all costs."""

from __future__ import annotations

import asyncio
import json

import pytest

from factory.llm import LLMClient
from factory.llm.scripted_server import ScriptedLLMServer, ScriptedReply
from factory.prompts import load_prompts
from factory.records import Attempt, Stage, TokenUsage, Verdict
from factory.stages.base import Asker, StageFailed
from factory.stages.propose import Problem, propose
from factory.stages.repair import repair
from factory.stages.solve import solve
from factory.stages.write_tests import write_tests
from problems import Difficulty, load_seeds, load_taxonomy
from problems.plan import StratifiedPlan
from sandbox import Status
from tests.support.scripted_runs import llm_config

PROBLEM = {
    "title": "Sum of digits",
    "description": "Return the sum of the decimal digits of a non-negative integer n; "
    "raise ValueError for a negative n.",
    "entry_point": "digit_sum",
    "signature": "def digit_sum(n: int) -> int",
    "difficulty": "easy",
    "topic": "math",
}
STATEMENT = Problem(
    title="Sum of digits",
    description=PROBLEM["description"],
    entry_point="digit_sum",
    signature="def digit_sum(n: int) -> int:",
    topic="math",
    subtopic="number theory",
    difficulty=Difficulty.EASY,
)
SOLUTION = "def digit_sum(n: int) -> int:\n    return sum(map(int, str(n)))\n"
TESTS = "from solution import digit_sum\n\n\ndef test_one():\n    assert digit_sum(12) == 3\n"


def run_stage(replies, stage_call, max_reasks=2):
    """Runs ``stage_call(asker, usage)`` against a server playing ``replies`` in order."""

    async def go(server):
        async with LLMClient(llm_config(server.base_url)) as llm:
            asker = Asker(
                llm, load_prompts(), temperature=0.7, max_tokens=300, max_reasks=max_reasks
            )
            usage = TokenUsage()
            try:
                return await stage_call(asker, usage), usage, asker
            except StageFailed as exc:
                return exc, usage, asker

    with ScriptedLLMServer(replies) as server:
        value, usage, asker = asyncio.run(go(server))
        return value, usage, asker, server.requests


def plan_slot():
    return StratifiedPlan(load_taxonomy(), load_seeds(), run_seed=3)[0]


def test_propose_sends_the_stage_schema_and_the_slot_and_files_it_under_the_plan():
    slot = plan_slot()
    claimed = []
    problem, usage, _, requests = run_stage(
        [json.dumps(PROBLEM)],
        lambda asker, usage: propose(
            asker,
            slot,
            usage,
            recent_titles=["Old title"],
            claim_title=lambda t: claimed.append(t) or True,
        ),
    )
    (request,) = requests
    assert request["response_format"]["json_schema"]["name"] == "problem"
    assert request["temperature"] == 0.7 and request["max_tokens"] == 300
    assert request["seed"] == slot.seed
    prompt = request["messages"][-1]["content"]
    assert slot.topic.name in prompt and slot.subtopic in prompt and slot.difficulty.value in prompt
    assert "- Old title" in prompt
    assert all(seed.title in prompt for seed in slot.few_shot)
    assert problem.topic == slot.topic.name and problem.difficulty == slot.difficulty
    assert problem.signature == "def digit_sum(n: int) -> int:"  # the colon is added
    assert claimed == ["Sum of digits"]
    assert usage.calls == 1 and usage.reasks == 0 and usage.prompt_tokens > 0


def test_a_title_already_produced_is_asked_again():
    taken = {"Sum of digits"}
    second = {**PROBLEM, "title": "Product of digits"}
    problem, usage, _, requests = run_stage(
        [json.dumps(PROBLEM), json.dumps(second)],
        lambda asker, usage: propose(
            asker, plan_slot(), usage, recent_titles=[], claim_title=lambda t: t not in taken
        ),
    )
    assert problem.title == "Product of digits"
    assert usage.reasks == 1 and usage.calls == 2
    assert "already used" in requests[1]["messages"][-1]["content"]


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ({**PROBLEM, "entry_point": "class"}, "not a valid Python function name"),
        ({**PROBLEM, "signature": "def other(n):"}, 'must start with "def digit_sum("'),
        ({**PROBLEM, "difficulty": "trivial"}, "difficulty"),
        ({key: v for key, v in PROBLEM.items() if key != "title"}, '"title" is missing'),
        ([PROBLEM], "not an object"),
    ],
)
def test_invalid_replies_are_shown_back_with_the_reason(bad, said):
    problem, usage, _, requests = run_stage(
        [json.dumps(bad), json.dumps(PROBLEM)],
        lambda asker, usage: propose(
            asker, plan_slot(), usage, recent_titles=[], claim_title=lambda t: True
        ),
    )
    assert problem.title == PROBLEM["title"] and usage.reasks == 1
    again = requests[1]["messages"]
    assert again[-2] == {"role": "assistant", "content": json.dumps(bad)}
    assert said in again[-1]["content"]


def test_fenced_json_with_prose_and_extra_keys_and_fenced_code_are_accepted():
    reply = (
        "Here you go:\n```json\n"
        + json.dumps({"code": f"```python\n{SOLUTION}```", "notes": "O(d)"})
        + "\n```\nAnything else?"
    )
    code, usage, _, _ = run_stage(
        [reply], lambda asker, usage: solve(asker, STATEMENT, usage, seed=1)
    )
    assert code == SOLUTION and usage.reasks == 0


def test_truncated_replies_are_reasked_until_the_bound_then_the_stage_fails():
    cut = ScriptedReply(content='{"code": "def digit_sum(n', finish_reason="length")
    failure, usage, _, requests = run_stage(
        [cut, cut, cut], lambda asker, usage: solve(asker, STATEMENT, usage, seed=1)
    )
    assert isinstance(failure, StageFailed) and failure.stage == Stage.SOLUTION
    assert "after 3 tries" in str(failure) and "incomplete" in str(failure)
    assert usage.calls == 3 and usage.reasks == 2 and len(requests) == 3
    assert "cut off by the token limit" in requests[1]["messages"][-1]["content"]


def test_the_tests_request_carries_the_statement_and_an_example_but_no_solution():
    example = load_seeds()[0]
    code, usage, _, requests = run_stage(
        [json.dumps({"code": "def test_x():\n    assert True\n"}), json.dumps({"code": TESTS})],
        lambda asker, usage: write_tests(asker, STATEMENT, usage, example=example, seed=1),
    )
    assert code == TESTS
    assert usage.reasks == 1  # the first file did not import from solution
    first = "\n".join(m["content"] for m in requests[0]["messages"])
    assert requests[0]["response_format"]["json_schema"]["name"] == "tests"
    assert STATEMENT.description in first and example.tests.strip() in first
    assert SOLUTION.strip() not in first and example.solution.strip() not in first


def test_repair_carries_problem_code_tests_report_and_history():
    earlier = Attempt(
        index=1,
        origin="repair",
        repair_target="solution",
        explanation="handled zero",
        solution=SOLUTION,
        tests=TESTS,
        verdict=Verdict(status=Status.FAILED, passed=False),
    )
    reply = {"target": "tests", "code": TESTS, "explanation": "the expected value was wrong"}
    fix, usage, _, requests = run_stage(
        [json.dumps(reply)],
        lambda asker, usage: repair(
            asker,
            STATEMENT,
            SOLUTION,
            TESTS,
            "status: failed\n- test_one: assert 3 == 4",
            [earlier],
            usage,
            seed=5,
        ),
    )
    assert fix.target == "tests" and fix.explanation.startswith("the expected")
    assert usage.calls == 1
    (request,) = requests
    assert request["response_format"]["json_schema"]["name"] == "repair"
    schema = request["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["target"]["enum"] == ["solution", "tests"]
    shown = request["messages"][-1]["content"]
    for part in (STATEMENT.description, SOLUTION.strip(), TESTS.strip(), "assert 3 == 4"):
        assert part in shown
    assert "repair 1 rewrote the solution (handled zero); result: failed" in shown


def test_a_server_that_rejects_json_schema_is_asked_without_it_from_then_on():
    def responder(request):
        if "response_format" in request:
            return ScriptedReply(
                status=400, body={"error": {"message": "response_format unsupported"}}
            )
        return ScriptedReply(content=json.dumps({"code": SOLUTION}))

    async def two_calls(asker, usage):
        first = await solve(asker, STATEMENT, usage, seed=1)
        second = await solve(asker, STATEMENT, usage, seed=2)
        return first, second

    (first, second), usage, asker, requests = run_stage(responder, two_calls)
    assert first == second == SOLUTION
    assert asker.structured.enabled is False
    assert ["response_format" in r for r in requests] == [True, False, False]
    assert usage.calls == 2


def test_a_request_rejected_with_and_without_json_schema_fails_the_stage_only():
    too_long = ScriptedReply(status=400, body={"error": {"message": "prompt is too long"}})
    failure, usage, asker, requests = run_stage(
        [too_long, too_long], lambda asker, usage: solve(asker, STATEMENT, usage, seed=1)
    )
    assert isinstance(failure, StageFailed) and "prompt is too long" in str(failure)
    assert asker.structured.enabled  # nothing learnt about response_format
    assert len(requests) == 2 and usage.calls == 0
