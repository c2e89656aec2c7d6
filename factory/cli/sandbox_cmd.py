"""``codefactory sandbox``: run jobs in the sandbox, build its image, remove left-overs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from factory.cli.common import fail, results, stderr
from factory.cli.options import (
    CpuTimeout,
    Image,
    Memory,
    Ray,
    Runtime,
    Timeout,
    Workers,
    cluster_config,
    defaults,
    pool_config,
)
from sandbox.image import DEFAULT_MIRROR
from sandbox.models import Job, Limits

LIMITS = defaults(Limits)
JOB = defaults(Job)

app = typer.Typer(
    help="Run untrusted code in the Docker sandbox; build and prune it.", no_args_is_help=True
)


@app.command("run")
def run(
    solution: Annotated[
        Path | None, typer.Option("--solution", help="Solution source file.")
    ] = None,
    tests: Annotated[Path | None, typer.Option("--tests", help="Test source file.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="pytest or script.")] = JOB.mode,
    jobs: Annotated[
        Path | None, typer.Option("--jobs", help="JSONL file of jobs, run in parallel.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Results JSONL of --jobs.", show_default="stdout"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result of --solution as JSON.")
    ] = False,
    workers: Workers = None,
    timeout: Timeout = LIMITS.timeout_s,
    cpu_timeout: CpuTimeout = LIMITS.cpu_timeout_s,
    memory: Memory = LIMITS.memory_mb,
    runtime: Runtime = None,
    image: Image = None,
    ray: Ray = None,
) -> None:
    """Run one solution with its tests (exit 0 passed, 1 not), or a JSONL file of jobs."""
    if mode not in ("pytest", "script"):
        fail(f"invalid --mode {mode!r}: use pytest or script")
    if jobs is not None:
        if solution or tests:
            fail("give either --jobs or --solution/--tests, not both")
        config = pool_config(workers, timeout, memory, runtime, image, cpu_timeout=cpu_timeout)
        _run_batch(jobs, out, config, cluster_config(ray, workers))
        return
    if ray is not None:
        fail("--ray runs a --jobs file; a single --solution runs here")
    if solution is None or tests is None:
        fail("give --solution and --tests (or --jobs FILE)")
    config = pool_config(1, timeout, memory, runtime, image, cpu_timeout=cpu_timeout)
    _run_one(solution, tests, mode, config, as_json)


def _read_text(path: Path, flag: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {flag} {path}: {getattr(exc, 'strerror', None) or exc}")


def _run_one(solution: Path, tests: Path, mode: str, config, as_json: bool) -> None:
    from sandbox import Job, SandboxPool
    from sandbox.aio import run as run_async

    job = Job(
        id=solution.stem,
        solution=_read_text(solution, "--solution"),
        tests=_read_text(tests, "--tests"),
        mode=mode,
    )

    async def go():
        async with SandboxPool(config) as pool:
            return await pool.run(job)

    result = run_async(go())
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        _print_result(result)
    raise typer.Exit(0 if result.passed else 1)


# C0 and C1 control characters but newline and tab: a job's text must not drive the terminal
# (escape sequences set its title, write the clipboard, move the cursor over earlier lines).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(text: str) -> str:
    """A job's own text as it may reach a terminal: every control character as its escape."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def _print_result(result) -> None:
    """The result for a person; what the job wrote is shown as plain text, never as markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    colour = "green" if result.passed else "red"
    line = Text(result.status.value, style=f"bold {colour}")
    line.append(f" in {result.duration_s:.2f} s")
    if result.error:
        line.append(": " + shown(result.error))
    console.print(line)
    if result.tests:
        table = Table("test", "outcome", "message")
        for test in result.tests:
            table.add_row(Text(shown(test.name)), test.outcome, Text(shown(test.message[:120])))
        console.print(table)


def _run_batch(jobs: Path, out: Path | None, config, cluster=None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sandbox.aio import run as run_async
    from sandbox.batch import BatchTally, count_and_validate, run_jobs_file

    total = count_and_validate(jobs)  # the only full check: before --out is opened
    tally = BatchTally()
    handle = open(out, "w", encoding="utf-8") if out else results()
    progress = Progress(
        TextColumn("sandbox"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=stderr,
    )
    task = progress.add_task("", total=total)

    def on_result(result) -> None:
        progress.update(task, advance=1, description=tally.line())

    try:
        with progress:
            written = run_async(
                run_jobs_file(
                    jobs, handle, config, on_result, total=total, tally=tally, cluster=cluster
                )
            )
    finally:
        if out:
            handle.close()
    print(json.dumps(tally.summary()), file=sys.stderr)
    raise typer.Exit(0 if written == total else 1)


@app.command("build")
def build(
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Bootstrap a Debian base with debootstrap and use host-downloaded wheels; needs no registry.",
        ),
    ] = False,
    base_image: Annotated[
        str | None,
        typer.Option(
            "--base-image",
            help="Base image (default: python:3.11-slim, or a bootstrapped Debian with --offline).",
        ),
    ] = None,
    mirror: Annotated[str, typer.Option("--mirror", help="Debian mirror for --offline.")] = (
        DEFAULT_MIRROR
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Rebuild even if the image exists.")
    ] = False,
) -> None:
    """Build the runner image (Python, pytest, coverage and the sandbox worker).

    Without --offline the official Python base image is used, and if it cannot be pulled the
    build falls back to the offline path by itself.
    """
    from sandbox.docker_client import connect
    from sandbox.image import build_image

    tag = build_image(
        connect(),
        offline=offline,
        base_image=base_image,
        mirror=mirror,
        force=force,
        log=lambda line: print(line, file=sys.stderr, flush=True),  # raw: no markup, no emoji
    )
    print(tag)


@app.command("prune")
def prune(
    all_: Annotated[
        bool, typer.Option("--all", help="Also remove containers of running processes.")
    ] = False,
) -> None:
    """Remove sandbox containers left behind by a killed codefactory process."""
    from sandbox.docker_client import connect, prune_containers

    removed = prune_containers(connect(), include_live_owners=all_)
    print(f"removed {removed} sandbox container(s)")
