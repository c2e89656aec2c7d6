"""Building small real datasets the way codefactory saves them (save_to_disk, train split)."""

from __future__ import annotations

from pathlib import Path

ADD_SOLUTION = "def add(a, b):\n    return a + b\n"
ADD_TESTS = (
    "from solution import add\n\n\n"
    "def test_small():\n    assert add(1, 2) == 3\n\n\n"
    "def test_negative():\n    assert add(-1, -2) == -3\n"
)
CLOSE_SOLUTION = "def mean(xs):\n    return sum(xs) / len(xs)\n"
# The comparison rule (tolerance) is in the task's own tests, not in the harness.
CLOSE_TESTS = (
    "import math\n\nfrom solution import mean\n\n\n"
    "def test_mean():\n    assert math.isclose(mean([0.1, 0.2, 0.3]), 0.2, rel_tol=1e-9)\n"
)


def write_dataset(directory: Path) -> Path:
    import datasets

    rows = {
        "id": ["add-1", "mean-1"],
        "title": ["Add", "Mean"],
        "description": ["Return the sum of a and b.", "Return the mean of a list of floats."],
        "entry_point": ["add", "mean"],
        "signature": ["def add(a: int, b: int) -> int:", "def mean(xs: list[float]) -> float:"],
        "solution": [ADD_SOLUTION, CLOSE_SOLUTION],
        "tests": [ADD_TESTS, CLOSE_TESTS],
    }
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(rows)}).save_to_disk(str(directory))
    return directory
