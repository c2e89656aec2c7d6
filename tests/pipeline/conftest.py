"""Fixtures for the generation tests: a scripted endpoint, a small sandbox pool, one run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from factory.pipeline.config import GenerateConfig
from factory.pipeline.generate import GenerateReport, generate
from sandbox import Limits, PoolConfig
from tests.support.scripted_runs import llm_config


@pytest.fixture
def pool_config(runner_image) -> PoolConfig:
    """Two containers and a 3 s limit, so an infinite loop costs little."""
    return PoolConfig(workers=2, image=runner_image, limits=Limits(timeout_s=3))


@pytest.fixture
def run_generate(pool_config) -> Callable[..., GenerateReport]:
    """Runs ``generate`` against an endpoint, the way the CLI does, minus the display."""

    def run(base_url: str, out: Path, count: int, *, gates=(), llm=None, **settings):
        config = GenerateConfig(out=out, count=count, sandbox=pool_config, **settings)
        return asyncio.run(generate(config, llm or llm_config(base_url), gates=gates))

    return run
