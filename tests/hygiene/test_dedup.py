"""Dedup: the first of each problem is kept; exact, renamed and lightly edited copies dropped."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from factory.hygiene.dedup import DedupConfig, Deduplicator, row_shingles
from factory.hygiene.minhash import MinHasher
from factory.records import DropReason
from tests.support.hygiene_rows import (
    BALANCED_BRACKETS,
    MERGE_INTERVALS,
    RUN_LENGTH,
    UNRELATED,
    variant,
)

RENAMED_RUN_LENGTH = variant(
    RUN_LENGTH,
    id="cf-rle-renamed",
    title="RLE",
    solution=(
        "def rle(s):\n"
        "    # run-length encode s\n"
        "    if not s:\n"
        "        return ''\n"
        "    out = []\n"
        "    (prev, n) = (s[0], 1)\n"
        "    for c in s[1:]:\n"
        "        if (c == prev):\n"
        "            n += 1\n"
        "        else:\n"
        "            out.append(f'{prev}{n}')\n"
        "            prev, n = c, 1\n"
        "    out.append(f'{prev}{n}')\n"
        "    return ''.join(out)\n"
    ),
)

# one line of the solution rewritten, the statement only re-punctuated: true Jaccard 0.94
EDITED_RUN_LENGTH = variant(
    RUN_LENGTH,
    id="cf-rle-edited",
    description=(
        "Compress a string with run-length encoding; every maximal run of one repeated "
        "character becomes the character, followed by the length of the run. An empty string "
        "encodes to an empty string!"
    ),
    solution=RUN_LENGTH["solution"].replace(
        '    parts.append(f"{current}{count}")\n    return',
        "    parts.append(current + str(count))\n    return",
    ),
)


def test_the_same_problem_twice_is_kept_once():
    dedup = Deduplicator()
    assert dedup.check_and_add(RUN_LENGTH) is None
    verdict = dedup.check_and_add(variant(RUN_LENGTH, id="cf-rle-again"))
    assert verdict is not None
    assert verdict.reason is DropReason.EXACT_DUPLICATE
    assert verdict.matched == RUN_LENGTH["id"]
    assert len(dedup) == 1


def test_a_copy_with_renamed_variables_is_an_exact_normalised_duplicate():
    dedup = Deduplicator.from_rows([RUN_LENGTH])
    verdict = dedup.check(RENAMED_RUN_LENGTH)
    assert verdict.reason is DropReason.EXACT_DUPLICATE, verdict
    assert verdict.matched == RUN_LENGTH["id"]


def test_a_lightly_edited_copy_is_a_near_duplicate_found_by_minhash():
    dedup = Deduplicator.from_rows([RUN_LENGTH, MERGE_INTERVALS])
    verdict = dedup.check(EDITED_RUN_LENGTH)
    assert true_jaccard(RUN_LENGTH, EDITED_RUN_LENGTH) > 0.9
    assert verdict.reason is DropReason.NEAR_DUPLICATE, verdict
    assert verdict.matched == RUN_LENGTH["id"]
    assert "Jaccard" in verdict.detail
    # the same edit is kept once the threshold asks for (almost) identical rows
    assert (
        Deduplicator.from_rows([RUN_LENGTH], DedupConfig(threshold=1.0)).check(EDITED_RUN_LENGTH)
        is None
    )


def test_different_problems_are_all_kept():
    dedup = Deduplicator()
    verdicts = [dedup.check_and_add(row) for row in UNRELATED]
    assert all(v is None for v in verdicts), verdicts
    assert len(dedup) == len(UNRELATED)


def test_a_tiny_shared_solution_does_not_make_different_problems_duplicates():
    """``return a + b`` solves many problems: with a short solution the statement decides."""
    add = {
        "id": "add",
        "description": "Return the sum of two integers given as arguments. Both may be "
        "negative, and the result must be exact for values up to ten to the power eighteen.",
        "solution": "def add(a, b):\n    return a + b\n",
    }
    concat = {
        "id": "concat",
        "description": "Join a first name and a last name into one display string, keeping "
        "the spacing exactly as given; either part may be the empty string.",
        "solution": "def full_name(first, last):\n    return first + last\n",
    }
    dedup = Deduplicator.from_rows([add])
    assert dedup.check(concat) is None
    assert dedup.check({**add, "id": "add-again"}) is not None


def test_a_rebuilt_index_drops_what_the_first_run_would_have_dropped():
    """Resume: the index is rebuilt from the stored rows, in their stored order."""
    stored = [RUN_LENGTH, MERGE_INTERVALS, BALANCED_BRACKETS]
    rebuilt = Deduplicator.from_rows(stored)
    assert rebuilt.check(EDITED_RUN_LENGTH) is not None
    assert rebuilt.check(RENAMED_RUN_LENGTH) is not None
    # a stored row checked again (a resumed slot) does not match itself
    assert rebuilt.check(MERGE_INTERVALS) is None


def test_signatures_are_the_same_in_another_process():
    """Rebuilding in a later run relies on hashing that does not change between processes."""
    shingles = ["a b c", "b c d", "c d e", "x y z"]
    here = MinHasher().signature(shingles).digest()
    script = (
        "import json, sys\n"
        "from factory.hygiene.minhash import MinHasher\n"
        "print(json.dumps(MinHasher().signature(json.loads(sys.argv[1])).digest()))\n"
    )
    other = subprocess.run(
        [sys.executable, "-c", script, json.dumps(shingles)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345"},
    )
    assert json.loads(other.stdout) == here


def test_disabled_dedup_keeps_everything():
    dedup = Deduplicator(DedupConfig(enabled=False))
    assert dedup.check_and_add(RUN_LENGTH) is None
    assert dedup.check_and_add(variant(RUN_LENGTH, id="again")) is None


def true_jaccard(first: dict, second: dict) -> float:
    a = row_shingles(first["description"], first["solution"])
    b = row_shingles(second["description"], second["solution"])
    return len(a & b) / len(a | b)


@pytest.mark.parametrize("threshold", [0.0, 1.5, -1])
def test_threshold_outside_zero_one_is_refused(threshold):
    with pytest.raises(ValueError, match="threshold"):
        DedupConfig(threshold=threshold)
