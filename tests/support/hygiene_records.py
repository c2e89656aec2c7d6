"""Real dataset records built from the hygiene test rows (a full ProblemRecord each)."""

from __future__ import annotations

from factory.records import Attempt, ProblemRecord, Split, Usage, Verdict
from sandbox import Status
from tests.support.records import provenance


def make_record(row: dict, *, slot: int = 0, split: Split = Split.TRAIN) -> ProblemRecord:
    verdict = Verdict(status=Status.PASSED, passed=True, n_tests=1, n_passed=1)
    return ProblemRecord(
        id=row["id"],
        split=split,
        title=row["title"],
        description=row["description"],
        entry_point=row["entry_point"],
        signature=row["signature"],
        topic=row["topic"],
        subtopic="general",
        difficulty=row["difficulty"],
        solution=row["solution"],
        tests=row["tests"],
        n_repairs=0,
        attempts=[
            Attempt(
                index=0,
                origin="initial",
                solution=row["solution"],
                tests=row["tests"],
                verdict=verdict,
            )
        ],
        usage=Usage(),
        provenance=provenance(slot),
    )
