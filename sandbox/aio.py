"""Running a coroutine so that SIGTERM and Ctrl-C unwind it like a cancellation.

Python's default SIGTERM kills the process without running ``finally`` blocks or
``__aexit__``; routing it into task cancellation lets the pool remove its containers.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Terminated(Exception):
    """The process was asked to stop (SIGTERM) and unwound cleanly."""


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Like :func:`asyncio.run`, but SIGTERM cancels the main task (then raises Terminated)."""

    async def main() -> T:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        got_signal = []

        def on_term() -> None:
            got_signal.append(signal.SIGTERM)
            task.cancel()

        try:
            loop.add_signal_handler(signal.SIGTERM, on_term)
        except (NotImplementedError, RuntimeError):  # not the main thread
            pass
        try:
            return await coro
        except asyncio.CancelledError:
            if got_signal:
                raise Terminated("stopped by SIGTERM") from None
            raise
        finally:
            try:
                loop.remove_signal_handler(signal.SIGTERM)
            except (NotImplementedError, RuntimeError):
                pass

    return asyncio.run(main())
