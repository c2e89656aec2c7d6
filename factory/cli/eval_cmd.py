"""``codefactory eval``: pass@k of code samples on HumanEval, MBPP and our own datasets."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Evaluate code samples or a model (pass@k) in the sandbox.", no_args_is_help=True
)
