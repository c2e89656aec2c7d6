"""Request slots that go to the most urgent waiter first.

The generation loop keeps more requests waiting than the endpoint has slots. Which one gets
the next free slot decides how well the slots stay busy at the end of a run: a problem
statement has two more requests waiting behind it (solution and tests), while those two have
none. Serving statements first leaves only independent requests for the last rounds, which
fill every slot; plain first-come order leaves statements for the end, and their follow-ups
then run with most slots idle.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class PrioritySlots:
    """A semaphore that wakes waiters by priority (lower first), first come first among equals.

    A waiter never jumps a free slot: priority only orders those who wait. Cancelling a
    waiter gives its slot back if it had already been handed one.
    """

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self._free = slots
        self._order = itertools.count()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []

    @property
    def waiting(self) -> int:
        """Waiters not yet served (cancelled ones excluded)."""
        return sum(1 for _, _, future in self._waiters if not future.done())

    @asynccontextmanager
    async def hold(self, priority: int = 0) -> AsyncIterator[None]:
        await self.acquire(priority)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, priority: int = 0) -> None:
        if self._free > 0:  # a slot is only ever free when nobody waits for it
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # handed a slot, then cancelled before using it: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self._free += 1
