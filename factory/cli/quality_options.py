"""``generate``'s test-strength gate flags, and the config they build."""

from __future__ import annotations

from typing import Annotated

import typer

from factory.cli.common import build_config
from factory.quality.config import FLAG_NAMES

MinCoverage = Annotated[
    float,
    typer.Option("--min-coverage", help="Line coverage of the solution its tests must reach."),
]
MinMutationScore = Annotated[
    float,
    typer.Option(
        "--min-mutation-score", help="Share of the solution's mutants its tests must kill."
    ),
]
MinTests = Annotated[int, typer.Option("--min-tests", help="Test functions a test file needs.")]
MinAsserts = Annotated[int, typer.Option("--min-asserts", help="Assertions a test file needs.")]
MaxMutants = Annotated[
    int, typer.Option("--max-mutants", help="Mutants run per candidate (0: no mutation testing).")
]
MutantTimeout = Annotated[
    float,
    typer.Option("--mutant-timeout", help="Seconds at most per mutant run (a timeout kills)."),
]
NoGates = Annotated[
    bool,
    typer.Option(
        "--no-gates",
        help="Accept every candidate the sandbox passes: no static checks, coverage or mutants.",
    ),
]


def quality_config(
    min_coverage: float,
    min_mutation_score: float,
    min_tests: int,
    min_asserts: int,
    max_mutants: int,
    mutant_timeout: float,
    no_gates: bool,
):
    from factory.quality.config import QualityConfig

    return build_config(
        QualityConfig,
        FLAG_NAMES,
        enabled=not no_gates,
        min_coverage=min_coverage,
        min_mutation_score=min_mutation_score,
        min_tests=min_tests,
        min_asserts=min_asserts,
        max_mutants=max_mutants,
        mutant_timeout_s=mutant_timeout,
    )
