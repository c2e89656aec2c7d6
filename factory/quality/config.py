"""Thresholds of the test-strength checks, validated once at the edge (CLI or caller)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class QualityConfig(BaseModel):
    """What a passing candidate must also show before its row is accepted.

    The defaults ask for tests that run 90% of the solution's lines and kill 70% of its
    mutants, with at least three test functions and three assertions.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="apply the test-strength gate at all (off: --no-gates)")
    min_coverage: float = Field(0.9, ge=0, le=1, description="line coverage of the solution")
    min_branch_coverage: float = Field(0.0, ge=0, le=1, description="0 records it only")
    min_mutation_score: float = Field(0.7, ge=0, le=1, description="killed / mutants run")
    min_tests: int = Field(3, ge=0, le=1000, description="test functions in the test file")
    min_asserts: int = Field(3, ge=0, le=10000, description="assertions in the test file")
    max_mutants: int = Field(30, ge=0, le=1000, description="mutants run per candidate")
    mutant_timeout_s: float = Field(
        5.0, gt=0, le=600, description="upper bound on one mutant's run (a timeout kills it)"
    )
    seed: int = Field(0, description="mutant sampling seed (combined with the solution's hash)")
    forgery_gate: bool = Field(
        True,
        description="reject, before any sandbox run, code that uses what only forging a "
        "verdict needs (off: --no-forgery-gate); applies with --no-gates too",
    )
    fail_fast: bool = Field(
        True, description="skip the costlier sandbox checks once a cheaper check has failed"
    )
