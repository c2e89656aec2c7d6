"""A real generated dataset (scripted model, real sandbox, dedup and decontamination on),
made once for the publish tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.scripted_runs import hygiene_run

ORDER = ["close", "rle", "rle-again", "intervals", "brackets"]


@pytest.fixture(scope="session")
def generated(runner_image, tmp_path_factory) -> Path:
    """train: run-length encoding and merge intervals; failures: brackets (never fixed);
    dropped: a HumanEval/0 copy and a second run-length encoding."""
    out = tmp_path_factory.mktemp("publish") / "made-by-codefactory"
    hygiene_run(out, ORDER, len(ORDER), runner_image)
    return out
