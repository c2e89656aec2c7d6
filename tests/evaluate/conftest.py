"""Fixtures for the evaluation tests: the real benchmarks and a small real sandbox pool config."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def humaneval():
    from factory.evaluate.benchmarks.humaneval import HumanEval

    return HumanEval.load()


@pytest.fixture
def eval_config(runner_image):
    """Two containers (other suites share the machine), a short per-sample limit."""
    from factory.evaluate.runner import EvalConfig
    from sandbox import Limits, PoolConfig

    return EvalConfig(
        pool=PoolConfig(workers=2, image=runner_image, limits=Limits(timeout_s=5)), ks=[1, 2, 10]
    )
