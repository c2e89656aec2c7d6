"""Real dataset records built from the hygiene test rows (a full ProblemRecord each)."""

from __future__ import annotations

from factory.records import (
    Attempt,
    ProblemRecord,
    Provenance,
    Sampling,
    SandboxInfo,
    Split,
    Usage,
    Verdict,
)
from sandbox import Status


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
        provenance=Provenance(
            generator="codefactory test",
            model="m",
            endpoint="http://127.0.0.1:1",
            sampling=Sampling(temperature=0.8, max_tokens=512, seed=slot),
            prompt_version="v1",
            prompt_hash="p",
            taxonomy="default",
            taxonomy_hash="t",
            run_seed=0,
            slot=slot,
            few_shot=[],
            sandbox=SandboxInfo(
                image="img", image_id="sha", timeout_s=10, memory_mb=512, cpus=1, network=False
            ),
            started_at="2026-01-01T00:00:00+00:00",
            finished_at="2026-01-01T00:00:01+00:00",
        ),
    )
