"""The quality record stored on every row: what was measured, each check's result, and the
feedback a model gets when the tests are too weak.

Only pydantic here (the tree-sitter checks that fill these models live in ``static`` and
``features``), so the dataset row can be imported, validated and read without them. Every list
holds named sub-models (no free-form dicts), so rows convert to Arrow columns with one schema
whatever the content.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from factory.quality.config import QualityConfig
from sandbox.models import CoverageReport

SCHEMA_VERSION = 2  # of QualityReport; 2: ``gates`` renamed ``checks``
STATIC_SCHEMA_VERSION = 1
Side = Literal["solution", "tests"]  # the two files of a candidate: what a repair rewrites
CheckName = Literal[
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


class FunctionComplexity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="qualified name, e.g. Outer.method or outer.inner")
    line: int
    complexity: int


class CodeFeatures(BaseModel):
    """Features of a solution module."""

    model_config = ConfigDict(extra="forbid")

    lines_of_code: int = Field(description="lines holding code: not blank, not only a comment")
    imports: list[str] = Field(default_factory=list, description="modules imported, sorted")
    functions: list[FunctionComplexity] = Field(default_factory=list)
    max_complexity: int = 0
    total_complexity: int = 0


class SuiteFeatures(BaseModel):
    """Features of a pytest file."""

    model_config = ConfigDict(extra="forbid")

    lines_of_code: int
    imports: list[str] = Field(default_factory=list)
    test_functions: list[str] = Field(default_factory=list, description="as pytest names them")
    n_test_functions: int = 0
    n_asserts: int = Field(
        0, description="assert statements plus pytest.raises/warns and self.assert* calls"
    )
    references_entry_point: bool = False


class SyntaxProblem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: Side
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"syntax error in the {self.file}, line {self.line}, column {self.column}: {self.message}"


class StaticIssue(BaseModel):
    """One reason to reject, and which side a repair should change."""

    model_config = ConfigDict(extra="forbid")

    target: Side
    check: Literal["size", "syntax", "entry_point", "parameters", "tests_use_entry_point"]
    message: str


class StaticReport(BaseModel):
    """What the static checks found; ``passed`` is False when any issue was found."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = STATIC_SCHEMA_VERSION
    passed: bool
    issues: list[StaticIssue] = Field(default_factory=list)
    syntax_errors: list[SyntaxProblem] = Field(default_factory=list)
    entry_point_found: bool = False
    parameters: list[str] | None = Field(None, description="the entry point's parameter names")
    declared_parameters: list[str] | None = Field(None, description="from the problem signature")
    notes: list[str] = Field(default_factory=list, description="things checked only partly")
    solution: CodeFeatures | None = None
    tests: SuiteFeatures | None = None

    @property
    def target(self) -> Side | None:
        """The side a repair should change first (the solution when both are broken)."""
        targets = {issue.target for issue in self.issues}
        return "solution" if "solution" in targets else ("tests" if targets else None)

    def feedback(self) -> str:
        """The issues as text for a model repairing the code."""
        return "\n".join(f"- {issue.message}" for issue in self.issues)


class CheckResult(BaseModel):
    """One check of the test-strength gate: passed or not, with its figure and threshold."""

    model_config = ConfigDict(extra="forbid")

    name: CheckName
    passed: bool | None = Field(description="None: not evaluated because an earlier check failed")
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
    reason: str = Field("", description="the failed checks in one line; empty when passed")
    target: Side | None = Field(
        None, description="the side a repair should change; None when the cause is unclear"
    )
    checks: list[CheckResult] = Field(default_factory=list)
    config: QualityConfig
    static: StaticReport
    hollow: HollowReport | None = None
    coverage: CoverageReport | None = None
    mutation: MutationReport | None = None
    feedback: str = Field("", description="what a model repairing the tests is shown")
    sandbox_runs: int = 0
    duration_s: float = 0.0

    def check(self, name: CheckName) -> CheckResult | None:
        return next((check for check in self.checks if check.name == name), None)

    @property
    def failed_checks(self) -> list[str]:
        return [check.name for check in self.checks if check.passed is False]

    @model_validator(mode="before")
    @classmethod
    def _read_older_versions(cls, data: Any) -> Any:
        """Version 1 called the checks ``gates`` (the word now means a step of the loop)."""
        if isinstance(data, dict) and data.get("schema_version", SCHEMA_VERSION) == 1:
            data = {**data, "schema_version": SCHEMA_VERSION}
            if "gates" in data:
                data["checks"] = data.pop("gates")
        return data
