"""The loop's bookkeeping, fast: resume fills gaps, abandoned slots are replaced, in-flight
work is bounded. Uses fakes of our own interfaces (an object with ``complete`` for the LLM, an
async judge for the sandbox); the real endpoint and sandbox are covered by test_generate."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from factory.dataset.store import RunStore
from factory.llm import Completion
from factory.pipeline.flow import FlowContext, RunIdentity, TitleRegistry
from factory.pipeline.progress import RunCounters
from factory.pipeline.runner import LoopSettings, TooManyAbandoned, run_loop
from factory.prompts import load_prompts
from factory.records import SandboxInfo, Split
from factory.stages.base import Asker
from problems import load_seeds, load_taxonomy
from problems.plan import StratifiedPlan
from sandbox import Job, Result, Status
from tests.support.records import FINGERPRINT, record

TITLE = re.compile(r"Problem: (Loop problem \d+)")


class FakeLLM:
    """Answers each stage with a valid reply; the first ``bad_problems`` proposals are junk."""

    def __init__(self, bad_problems: int = 0, delay_s: float = 0.0) -> None:
        self.bad_problems = bad_problems
        self.delay_s = delay_s
        self.proposed = 0
        self.open = 0  # problems proposed and not yet judged
        self.most_open = 0
        self.priorities: dict[str, set[int]] = {}  # stage -> priorities it was asked with

    async def complete(self, messages, *, response_format=None, **options) -> Completion:
        await asyncio.sleep(self.delay_s)
        stage = response_format["json_schema"]["name"]
        self.priorities.setdefault(stage, set()).add(options["priority"])
        if stage == "problem":
            self.proposed += 1
            if self.proposed <= self.bad_problems:
                return self._reply("I would rather not.")
            self.open += 1
            self.most_open = max(self.most_open, self.open)
            n = self.proposed
            return self._reply(
                json.dumps(
                    {
                        "title": f"Loop problem {n}",
                        "description": f"Return x plus {n} for any integer x, and nothing else.",
                        "entry_point": "f",
                        "signature": "def f(x: int) -> int:",
                        "difficulty": "easy",
                        "topic": "math",
                    }
                )
            )
        assert TITLE.search(messages[-1]["content"]), "later stages see the statement"
        code = {
            "solution": "def f(x):\n    return x\n",
            "tests": "from solution import f\n\ndef test_f():\n    assert f(1) == 1\n",
        }[stage]
        return self._reply(json.dumps({"code": code}))

    @staticmethod
    def _reply(text: str) -> Completion:
        return Completion(
            texts=[text], prompt_tokens=10, completion_tokens=5, finish_reasons=["stop"]
        )


def make_context(store: RunStore, llm: FakeLLM, counters: RunCounters, judge) -> FlowContext:
    return FlowContext(
        asker=Asker(llm, load_prompts(), temperature=0.5, max_tokens=100, max_reasks=0),
        judge=judge,
        gates=(),
        titles=TitleRegistry(store.title_taken),
        recent_titles=lambda topic: store.recent_titles(topic, 5),
        counters=counters,
        identity=RunIdentity(
            generator="test",
            model="fake",
            endpoint="http://fake",
            prompt_version="v1",
            prompt_hash="h",
            taxonomy="t",
            taxonomy_hash="th",
            run_seed=0,
            sandbox=SandboxInfo(
                image="i", image_id="sha256:i", timeout_s=1, memory_mb=64, cpus=1, network=False
            ),
        ),
        max_repairs=1,
    )


def passing_judge(llm: FakeLLM, delay_s: float = 0.0):
    async def judge(job: Job) -> Result:
        await asyncio.sleep(delay_s)
        llm.open -= 1
        return Result(id=job.id, status=Status.PASSED, passed=True, n_tests=1, n_passed=1)

    return judge


def run(store, llm, count, in_flight=4, judge=None):
    counters = RunCounters(target=count)
    ctx = make_context(store, llm, counters, judge or passing_judge(llm))
    plan = StratifiedPlan(load_taxonomy(), load_seeds(), run_seed=0)
    asyncio.run(run_loop(store, plan, ctx, LoopSettings(count=count, in_flight=in_flight)))
    return counters


def test_a_resumed_run_fills_the_gaps_first(tmp_path):
    with RunStore.open(tmp_path, FINGERPRINT) as store:
        for slot in (0, 2, 5):
            store.commit(record(slot, title=f"Earlier {slot}"))
        counters = run(store, FakeLLM(), count=6)
        slots = sorted(r.provenance.slot for r in store.iter_records())
    assert slots == [0, 1, 2, 3, 4, 5]
    assert counters.accepted == 3


def test_abandoned_slots_are_replaced_and_count_is_honoured(tmp_path):
    with RunStore.open(tmp_path, FINGERPRINT) as store:
        counters = run(store, FakeLLM(bad_problems=3), count=5)
        assert store.problems_done() == 5
        assert store.counts()["abandoned"] == 3
        assert counters.abandoned == 3
        (first, *_) = store.iter_abandoned()
        assert "no valid reply" in first.reason and first.usage.problem.calls == 1


def test_a_model_that_never_proposes_anything_usable_stops_the_run(tmp_path):
    with RunStore.open(tmp_path, FINGERPRINT) as store:
        with pytest.raises(TooManyAbandoned, match="no usable problem statement"):
            run(store, FakeLLM(bad_problems=10_000), count=2)
        assert store.counts()["abandoned"] > 20  # every abandoned slot was still recorded


def test_problems_in_flight_stay_within_the_bound(tmp_path):
    llm = FakeLLM(delay_s=0.01)
    with RunStore.open(tmp_path, FINGERPRINT) as store:
        run(store, llm, count=40, in_flight=5, judge=passing_judge(llm, delay_s=0.03))
        assert store.counts()[Split.TRAIN.value] == 40
    assert 1 < llm.most_open <= 5


def test_problem_statements_ask_for_llm_slots_before_the_requests_waiting_on_them(tmp_path):
    llm = FakeLLM()
    with RunStore.open(tmp_path, FINGERPRINT) as store:
        run(store, llm, count=3)
    (statement,) = llm.priorities["problem"]
    assert statement < min(llm.priorities["solution"] | llm.priorities["tests"])
