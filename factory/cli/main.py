"""The ``codefactory`` command. Each subcommand lives in its own module and stays thin."""

from __future__ import annotations

import sys

import typer

from factory.cli import eval_cmd, evolve_cmd, generate_cmd, publish_cmd, sandbox_cmd, training_cmd

app = typer.Typer(
    name="codefactory",
    help="Manufacture verified code-training data, and evaluate code models, in Docker sandboxes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="markdown",  # docstrings' paragraphs reflow, `code` shows as code
)
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(eval_cmd.app, name="eval")
app.command("generate")(generate_cmd.generate)
app.command("evolve")(evolve_cmd.evolve)
app.command("stats")(generate_cmd.stats)
app.command("card")(publish_cmd.card)
app.command("push")(publish_cmd.push)
app.command("report")(publish_cmd.report)
app.command("export")(training_cmd.export)
app.command("label")(training_cmd.label)


def main() -> None:
    """Entry point: user-facing errors become one line on stderr and exit status 2."""
    from factory.errors import FactoryError
    from sandbox.aio import Terminated
    from sandbox.errors import SandboxError

    if any(arg == "--ray" or arg.startswith("--ray=") for arg in sys.argv[1:]):
        from factory.cli.common import library_stdout_to_stderr

        library_stdout_to_stderr()
    try:
        app()
    except (FactoryError, SandboxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted: everything finished so far is saved", file=sys.stderr)
        sys.exit(130)
    except Terminated:
        print("terminated: everything finished so far is saved", file=sys.stderr)
        sys.exit(143)


if __name__ == "__main__":
    main()
