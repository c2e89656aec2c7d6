"""A real generated dataset (scripted model through the real loop and sandbox, hygiene on),
made once for the training tests, and the rl export of its train split."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.scripted_runs import hygiene_run

ORDER = ["close", "rle", "rle-again", "intervals", "brackets"]


@pytest.fixture(scope="session")
def generated_dataset(runner_image, tmp_path_factory) -> Path:
    """train: run-length encoding and merge intervals; failures: brackets; dropped: a
    HumanEval/0 copy and a second run-length encoding."""
    out = tmp_path_factory.mktemp("training") / "made-by-codefactory"
    hygiene_run(out, ORDER, len(ORDER), runner_image)
    return out


@pytest.fixture
def dataset_copy(generated_dataset, tmp_path) -> Path:
    """A private copy, for tests that write into the dataset directory (labels)."""
    copy = tmp_path / generated_dataset.name
    shutil.copytree(generated_dataset, copy)
    return copy
