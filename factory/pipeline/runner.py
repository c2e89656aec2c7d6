"""The generation loop: many problems in flight, LLM calls and sandbox runs overlapping.

Up to ``in_flight`` problems run at once, each its own task walking through
:func:`factory.pipeline.flow.make_problem`. They share two bounded resources: the LLM client's
request slots (``--concurrency``) and the sandbox pool's containers (``--workers``). While some
problems wait on the model, others hold containers, so neither side idles as long as enough
problems are in flight. Finished problems go through a bounded queue to a single writer that
commits each to the store (durably) as it arrives. Nothing grows with ``--count``: the plan is
computed per slot, done slots and produced titles are looked up in the store.

Stopping: a fatal error (endpoint down, key refused, sandbox broken), Ctrl-C or SIGTERM cancel
the problems in flight; every problem already finished is committed before the error
propagates. A rerun resumes with the slots not yet in the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from factory.dataset.store import RunStore
from factory.errors import FactoryError
from factory.pipeline.flow import FlowContext, make_problem
from factory.records import AbandonedSlot, ProblemRecord, Split
from problems.plan import StratifiedPlan

ABANDON_LIMIT_MIN = 20


class TooManyAbandoned(FactoryError):
    """The model keeps failing to produce a usable problem statement."""


@dataclass
class LoopSettings:
    count: int
    in_flight: int


async def run_loop(
    store: RunStore,
    plan: StratifiedPlan,
    ctx: FlowContext,
    settings: LoopSettings,
) -> None:
    """Fills ``store`` until it holds ``settings.count`` problems (train, failures, ...)."""
    counters = ctx.counters
    finished = store.problems_done()
    if finished >= settings.count:
        return
    slots = _pending_slots(store)
    commits: asyncio.Queue[ProblemRecord | AbandonedSlot] = asyncio.Queue(settings.in_flight)
    changed = asyncio.Event()
    state = {"finished": finished, "outstanding": 0}
    writer_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
    abandon_limit = max(ABANDON_LIMIT_MIN, settings.count)
    loop = asyncio.get_running_loop()

    def record_commit(item: ProblemRecord | AbandonedSlot, stored: bool) -> None:
        state["outstanding"] -= 1
        if isinstance(item, ProblemRecord):
            ctx.titles.release(item.title)
            if stored:
                state["finished"] += 1
                if item.split == Split.TRAIN:
                    counters.accepted += 1
                elif item.split == Split.DROPPED:
                    counters.dropped += 1
                else:
                    counters.failed += 1
            else:
                counters.abandoned += 1
        else:
            counters.abandoned += 1
        changed.set()

    async def work(slot: int) -> None:
        item = await make_problem(ctx, plan[slot])
        await commits.put(item)

    async def writer() -> None:
        while True:
            item = await commits.get()
            stored = await loop.run_in_executor(writer_pool, store.commit, item)
            record_commit(item, stored)
            if counters.abandoned > abandon_limit:
                raise TooManyAbandoned(
                    f"the model produced no usable problem statement in {counters.abandoned} "
                    f"slots (last: {_reason(item)}): check --model, raise --max-tokens, or "
                    "look at the replies with a single --count 1 run"
                )

    try:
        async with asyncio.TaskGroup() as group:
            writer_task = group.create_task(writer())
            while state["finished"] < settings.count:
                room = state["outstanding"] < settings.in_flight
                if room and state["finished"] + state["outstanding"] < settings.count:
                    state["outstanding"] += 1
                    group.create_task(work(next(slots)))
                    continue
                changed.clear()
                await changed.wait()
            writer_task.cancel()
    except BaseExceptionGroup as group_error:
        raise _first_meaningful(group_error) from None
    finally:
        # Whatever stopped the loop, problems that finished are saved before we return.
        while not commits.empty():
            item = commits.get_nowait()
            record_commit(item, store.commit(item))
        writer_pool.shutdown(wait=True)


def _pending_slots(store: RunStore) -> Iterator[int]:
    """Slot numbers not yet finished, in order (a resumed run fills its gaps first)."""
    slot = 0
    while True:
        if not store.is_done(slot):
            yield slot
        slot += 1


def _first_meaningful(group_error: BaseExceptionGroup) -> BaseException:
    """The error to report out of a task group: a user-facing one if any, else the first."""
    leaves: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            leaves.append(error)

    walk(group_error)
    for preferred in (FactoryError, Exception):
        for error in leaves:
            if isinstance(error, preferred):
                return error
    return leaves[0]


def _reason(item: Any) -> str:
    return getattr(item, "reason", "") or getattr(item, "failure_reason", "")
