"""The quality record stored on every row: what was measured, each gate's verdict, and the
feedback a model gets when the tests are too weak.

Every list holds named sub-models (no free-form dicts), so rows convert to Arrow columns with
one schema whatever the content.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from factory.quality.config import QualityConfig
from factory.quality.static import StaticReport
from sandbox.models import CoverageReport

SCHEMA_VERSION = 1
GateName = Literal[
    "static",
    "min_tests",
    "min_asserts",
    "baseline",
    "trivial_solutions",
    "emptied_module",
    "coverage",
    "branch_coverage",
    "mutation_score",
]


class GateResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: GateName
    passed: bool | None = Field(description="None: not evaluated because an earlier gate failed")
    value: float | None = None
    threshold: float | None = None
    detail: str = ""


class MutantResult(BaseModel):
    """One mutant's fate; only survivors are stored on the row."""

    model_config = ConfigDict(extra="forbid")

    index: int
    operator: str
    line: int
    original: str
    mutated: str
    diff: str = ""
    outcome: Literal["killed", "survived", "unknown"]
    status: str = Field(description="the sandbox status of the tests run against the mutant")
    executed: bool | None = Field(None, description="whether the tests ran the mutated line")
    equivalence_hint: str = Field("", description="why it may be equivalent, if it looks so")


class OperatorScore(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operator: str
    mutants: int
    killed: int


class MutationReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int
    timeout_s: float
    n_mutants: int = Field(description="mutants run (after dropping non-compiling and duplicates)")
    killed: int = 0
    survived: int = 0
    unknown: int = Field(0, description="the sandbox itself failed; not counted in the score")
    score: float | None = Field(None, description="killed / (killed + survived)")
    likely_equivalent: int = Field(0, description="survivors that look equivalent")
    equivalent: int = Field(
        0, description="not run: compiled to the original's code (trivial compiler equivalence)"
    )
    duplicates: int = Field(0, description="not run: compiled to an earlier mutant's code")
    operators: list[OperatorScore] = Field(default_factory=list)
    survivors: list[MutantResult] = Field(default_factory=list)


class TrivialResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="e.g. 'return None'")
    status: str
    passed: bool = Field(description="True is bad: the tests accepted it")


class HollowReport(BaseModel):
    """Guards against tests that check nothing."""

    model_config = ConfigDict(extra="forbid")

    n_test_functions: int
    n_asserts: int
    trivial: list[TrivialResult] = Field(default_factory=list)
    emptied_module_status: str | None = None
    emptied_module_passing_tests: list[str] = Field(default_factory=list)


class QualityReport(BaseModel):
    """Test strength of one accepted-by-the-sandbox candidate, and whether it may be kept."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    passed: bool
    reason: str = Field("", description="the failed gates in one line; empty when passed")
    target: Literal["solution", "tests"] | None = Field(
        None, description="the side a repair should change; None when the cause is unclear"
    )
    gates: list[GateResult] = Field(default_factory=list)
    config: QualityConfig
    static: StaticReport
    hollow: HollowReport | None = None
    coverage: CoverageReport | None = None
    mutation: MutationReport | None = None
    feedback: str = Field("", description="what a model repairing the tests is shown")
    sandbox_runs: int = 0
    duration_s: float = 0.0

    def gate(self, name: GateName) -> GateResult | None:
        return next((gate for gate in self.gates if gate.name == name), None)

    @property
    def failed_gates(self) -> list[str]:
        return [gate.name for gate in self.gates if gate.passed is False]
