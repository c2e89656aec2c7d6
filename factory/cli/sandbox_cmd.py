"""``codefactory sandbox``: run jobs in the sandbox, build its image, remove left-overs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from factory.cli.common import build_config, fail, stderr

app = typer.Typer(
    help="Run untrusted code in the Docker sandbox; build and prune it.", no_args_is_help=True
)

Workers = Annotated[
    int | None, typer.Option("--workers", "-w", help="Containers (default: twice the CPU count).")
]
Timeout = Annotated[
    float | None, typer.Option("--timeout", help="Wall-clock seconds per job (default: 30).")
]
CpuTimeout = Annotated[
    float | None,
    typer.Option(
        "--cpu-timeout", help="CPU seconds per job, all its processes (default: the --timeout)."
    ),
]
Memory = Annotated[int | None, typer.Option("--memory", help="MiB per container (default: 512).")]
Runtime = Annotated[
    str | None, typer.Option("--runtime", help="Container runtime, e.g. runsc (gVisor).")
]
Image = Annotated[
    str | None, typer.Option("--image", help="Runner image (default: built for this version).")
]
FLAGS = {
    "workers": "--workers",
    "limits.timeout_s": "--timeout",
    "limits.cpu_timeout_s": "--cpu-timeout",
    "limits.memory_mb": "--memory",
    "timeout_s": "--timeout",
    "cpu_timeout_s": "--cpu-timeout",
    "memory_mb": "--memory",
}


def pool_config(workers, timeout, memory, runtime=None, image=None, cpu_timeout=None):
    from sandbox import Limits, PoolConfig

    limits = build_config(
        Limits, FLAGS, timeout_s=timeout, memory_mb=memory, cpu_timeout_s=cpu_timeout
    )
    return build_config(
        PoolConfig, FLAGS, workers=workers, limits=limits, runtime=runtime, image=image
    )


@app.command("run")
def run(
    solution: Annotated[
        Path | None, typer.Option("--solution", help="Solution source file.")
    ] = None,
    tests: Annotated[Path | None, typer.Option("--tests", help="Test source file.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="pytest or script.")] = "pytest",
    jobs: Annotated[Path | None, typer.Option("--jobs", help="JSONL file of jobs.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Results JSONL (default: stdout).")
    ] = None,
    workers: Workers = None,
    timeout: Timeout = None,
    cpu_timeout: CpuTimeout = None,
    memory: Memory = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    runtime: Runtime = None,
    image: Image = None,
) -> None:
    """Run one solution with its tests (exit 0 passed, 1 not), or a JSONL file of jobs."""
    if mode not in ("pytest", "script"):
        fail(f"invalid --mode {mode!r}: use pytest or script")
    if jobs is not None:
        if solution or tests:
            fail("give either --jobs or --solution/--tests, not both")
        _run_batch(jobs, out, pool_config(workers, timeout, memory, runtime, image, cpu_timeout))
        return
    if solution is None or tests is None:
        fail("give --solution and --tests (or --jobs FILE)")
    config = pool_config(1, timeout, memory, runtime, image, cpu_timeout)
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


def _print_result(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    colour = "green" if result.passed else "red"
    console.print(
        f"[bold {colour}]{result.status.value}[/] in {result.duration_s:.2f} s"
        + (f": {result.error}" if result.error else "")
    )
    if result.tests:
        table = Table("test", "outcome", "message")
        for test in result.tests:
            table.add_row(test.name, test.outcome, test.message[:120])
        console.print(table)


def _run_batch(jobs: Path, out: Path | None, config) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sandbox.aio import run as run_async
    from sandbox.batch import BatchTally, count_and_validate, run_jobs_file

    total = count_and_validate(jobs)  # the only full check: before --out is opened
    tally = BatchTally()
    handle = open(out, "w", encoding="utf-8") if out else sys.stdout
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
                run_jobs_file(jobs, handle, config, on_result, total=total, tally=tally)
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
    mirror: Annotated[
        str, typer.Option("--mirror", help="Debian mirror for --offline.")
    ] = "http://deb.debian.org/debian",
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
        log=lambda line: print(line, file=sys.stderr, flush=True),  # Docker's text, raw
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
