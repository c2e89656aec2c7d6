"""Building valid records for the store, export and hygiene tests."""

from __future__ import annotations

from factory.records import (
    AbandonedSlot,
    Attempt,
    ProblemRecord,
    Provenance,
    Sampling,
    SandboxInfo,
    Split,
    Stage,
    TokenUsage,
    Usage,
    Verdict,
    problem_id,
)
from factory.run_fingerprint import GenerationSettings, RunFingerprint, SandboxSettings
from sandbox import Status

GENERATION = GenerationSettings(
    model="m",
    prompt_version="v1",
    prompt_hash="p" * 64,
    taxonomy_hash="t" * 64,
    temperature=0.8,
    max_tokens=2048,
    seed=0,
    max_repairs=3,
    max_reasks=2,
    few_shot=2,
)
# A run's fingerprint, for stores opened without a run.
FINGERPRINT = RunFingerprint(
    row_schema_version=1,
    generation=GENERATION,
    sandbox=SandboxSettings(timeout_s=10.0, memory_mb=512),
)


def record(slot: int, split: Split = Split.TRAIN, *, title: str | None = None, topic="math"):
    title = title or f"Problem number {slot}"
    passed = split == Split.TRAIN
    return ProblemRecord(
        id=problem_id(title, "describe", "f"),
        split=split,
        title=title,
        description="describe",
        entry_point="f",
        signature="def f(x: int) -> int:",
        topic=topic,
        subtopic="primes",
        difficulty="easy",
        solution="def f(x):\n    return x\n",
        tests="from solution import f\n\ndef test_f():\n    assert f(1) == 1\n",
        n_repairs=0,
        failure_reason="" if passed else "failed: 1 of 1 tests failed",
        attempts=[
            Attempt(
                index=0,
                origin="initial",
                solution="def f(x):\n    return x\n",
                tests="from solution import f\n",
                verdict=Verdict(status=Status.PASSED if passed else Status.FAILED, passed=passed),
            )
        ],
        usage=Usage(problem=TokenUsage(calls=1, prompt_tokens=100, completion_tokens=20)),
        provenance=provenance(slot),
    )


def provenance(slot: int) -> Provenance:
    """A complete, valid provenance for test records (its values are placeholders)."""
    return Provenance(
        generator="codefactory test",
        model="m",
        endpoint="http://127.0.0.1:1",
        sampling=Sampling(temperature=0.8, max_tokens=512, seed=slot),
        prompt_version="v1",
        prompt_hash="abc",
        taxonomy="t",
        taxonomy_hash="def",
        run_seed=0,
        slot=slot,
        few_shot=["seed-a"],
        sandbox=SandboxInfo(
            image="img", image_id="sha256:x", timeout_s=3, memory_mb=512, cpus=1, network=False
        ),
        started_at="2026-01-01T00:00:00.000+00:00",
        finished_at="2026-01-01T00:00:01.000+00:00",
    )


def abandoned(slot: int) -> AbandonedSlot:
    return AbandonedSlot(
        slot=slot,
        stage=Stage.PROBLEM,
        reason="no valid reply",
        usage=Usage(problem=TokenUsage(calls=3, reasks=2, prompt_tokens=300)),
        finished_at="2026-01-01T00:00:01.000+00:00",
    )


def record_from_row(row: dict, *, slot: int = 0, split: Split = Split.TRAIN) -> ProblemRecord:
    """A train row (one passing attempt) from a hygiene test row (``hygiene_rows``)."""
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
