"""Running the async gates on the session's shared sandbox pool."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest


@pytest.fixture
def on_pool(sandbox_pool) -> Callable[[Callable[[Any], Coroutine]], Any]:
    """``on_pool(lambda pool: assess(pool, ...))`` runs the coroutine on the pool's own loop.

    The shared pool is a BlockingPool whose SandboxPool lives on a loop in another thread;
    coroutines that use it must run there.
    """

    def run(make: Callable[[Any], Coroutine]) -> Any:
        return sandbox_pool.submit(make(sandbox_pool.pool))

    return run
