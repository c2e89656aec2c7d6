"""PrioritySlots: a bound on requests in flight that serves the most urgent waiter first."""

from __future__ import annotations

import asyncio

import pytest

from factory.llm.slots import PrioritySlots


async def _waiter(slots: PrioritySlots, name: str, priority: int, order: list[str]) -> None:
    async with slots.hold(priority):
        order.append(name)
        await asyncio.sleep(0)


def test_waiters_are_served_by_priority_then_arrival():
    async def go() -> list[str]:
        slots, order = PrioritySlots(1), []
        await slots.acquire()  # the only slot is taken: everyone below has to wait
        names = [("late-1", 1), ("first-1", 0), ("late-2", 1), ("first-2", 0)]
        tasks = [asyncio.create_task(_waiter(slots, n, p, order)) for n, p in names]
        await asyncio.sleep(0)
        assert slots.waiting == 4
        slots.release()
        await asyncio.gather(*tasks)
        return order

    assert asyncio.run(go()) == ["first-1", "first-2", "late-1", "late-2"]


def test_a_free_slot_is_taken_at_once_whatever_the_priority():
    async def go() -> None:
        slots = PrioritySlots(2)
        await asyncio.wait_for(slots.acquire(priority=9), timeout=1)
        await asyncio.wait_for(slots.acquire(priority=9), timeout=1)
        assert slots.waiting == 0

    asyncio.run(go())


def test_the_bound_holds_under_load():
    async def go() -> int:
        slots, busy, most = PrioritySlots(3), 0, 0

        async def work(priority: int) -> None:
            nonlocal busy, most
            async with slots.hold(priority):
                busy += 1
                most = max(most, busy)
                await asyncio.sleep(0.001)
                busy -= 1

        await asyncio.gather(*(work(i % 3) for i in range(60)))
        return most

    assert asyncio.run(go()) == 3


@pytest.mark.parametrize(
    "handed_a_slot", [False, True], ids=["cancelled-waiting", "cancelled-after-being-handed-one"]
)
def test_a_cancelled_waiter_neither_keeps_nor_leaks_a_slot(handed_a_slot):
    async def go() -> None:
        slots = PrioritySlots(1)
        await slots.acquire()
        cancelled = asyncio.create_task(slots.acquire(priority=0))
        served: list[str] = []
        other = asyncio.create_task(_waiter(slots, "other", 1, served))
        await asyncio.sleep(0)
        if handed_a_slot:
            slots.release()  # hands the slot to `cancelled`, which has not run yet ...
            cancelled.cancel()  # ... and is cancelled before it does
        else:
            cancelled.cancel()
            await asyncio.sleep(0)
            slots.release()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await asyncio.wait_for(other, timeout=1)
        assert served == ["other"]
        await asyncio.wait_for(slots.acquire(), timeout=1)  # and the slot came back after it

    asyncio.run(go())


def test_at_least_one_slot():
    with pytest.raises(ValueError, match="at least 1"):
        PrioritySlots(0)
