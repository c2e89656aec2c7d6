"""The problem stage with a seed snippet, a persona and failed examples: what the model sees,
and the concepts style's extra call (its cost counted as the problem stage's)."""

from __future__ import annotations

import asyncio
import dataclasses
import json

from factory.llm import LLMClient
from factory.llm.scripted_server import ScriptedLLMServer
from factory.pipeline.steering import steer_prompts
from factory.prompts import load_prompts
from factory.records import TokenUsage
from factory.stages.base import Asker
from factory.stages.propose import propose
from problems import load_seeds, load_taxonomy
from problems.plan import StratifiedPlan
from problems.snippet import FocusExample, Snippet
from tests.support.scripted_runs import llm_config
from tests.support.seed_code import INVENTORY

PROBLEM = {
    "title": "Stock ledger",
    "description": "Keep counts of items; taking more than there are raises ValueError.",
    "entry_point": "ledger",
    "signature": "def ledger(ops: list[tuple[str, int]]) -> dict[str, int]",
    "difficulty": "easy",
    "topic": "math",
}
SNIPPET = Snippet(code=INVENTORY, source="src/inv.py", sha256="0" * 64, kind="class")
FAILED = FocusExample(id="cf-1", title="Balanced brackets", description="Check brackets.")


def ask(replies, plan, style):
    async def go(server):
        async with LLMClient(llm_config(server.base_url)) as llm:
            asker = Asker(llm, load_prompts(), 0.7, 300, max_reasks=1, steer=steer_prompts())
            usage = TokenUsage()
            problem = await propose(
                asker, plan, usage, recent_titles=[], claim_title=lambda t: True,
                seed_style=style,
            )  # fmt: skip
            return problem, usage

    with ScriptedLLMServer(replies) as server:
        problem, usage = asyncio.run(go(server))
        return problem, usage, server.requests


def slot():
    plan = StratifiedPlan(load_taxonomy(), load_seeds(), run_seed=3)[0]
    return dataclasses.replace(plan, snippet=SNIPPET, persona="a warehouse", focus=(FAILED,))


def test_the_snippet_persona_and_failed_problem_are_shown_to_the_proposer():
    problem, usage, requests = ask([json.dumps(PROBLEM)], slot(), "snippet")
    (request,) = requests
    text = "\n".join(message["content"] for message in request["messages"])
    assert INVENTORY.strip() in text
    assert "audience or application domain: a warehouse" in text
    assert "Balanced brackets" in text and "failed these problems" in text
    assert problem.concepts == "" and usage.calls == 1


def test_the_concepts_style_asks_for_concepts_first_and_builds_on_them():
    concepts = json.dumps({"concepts": "classes, dictionaries, exceptions"})
    problem, usage, requests = ask([concepts, json.dumps(PROBLEM)], slot(), "concepts")
    first, second = requests
    assert first["response_format"]["json_schema"]["name"] == "concepts"
    assert INVENTORY.strip() in first["messages"][-1]["content"]
    shown = "\n".join(message["content"] for message in second["messages"])
    assert "these programming concepts, taken from real code: classes, dictionaries" in shown
    assert INVENTORY.strip() not in shown  # the concepts stand in for the code
    assert problem.concepts == "classes, dictionaries, exceptions" and usage.calls == 2
