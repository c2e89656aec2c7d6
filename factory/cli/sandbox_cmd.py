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
    int | None, typer.Option("--workers", "-w", help="Containers (default: CPU count).")
]
Timeout = Annotated[float | None, typer.Option("--timeout", help="Seconds per job (default: 30).")]
Memory = Annotated[int | None, typer.Option("--memory", help="MiB per container (default: 512).")]
Runtime = Annotated[
    str | None, typer.Option("--runtime", help="Container runtime, e.g. runsc (gVisor).")
]
Image = Annotated[
    str | None, typer.Option("--image", help="Runner image (default: built for this version).")
]
Ray = Annotated[
    str | None,
    typer.Option(
        "--ray",
        help="Run the sandbox jobs on a Ray cluster: its address (host:6379) or auto; "
        "--workers is then containers per node (default: the node's CPUs).",
    ),
]
FLAGS = {
    "workers": "--workers",
    "limits.timeout_s": "--timeout",
    "limits.memory_mb": "--memory",
    "timeout_s": "--timeout",
    "memory_mb": "--memory",
}


def pool_config(workers, timeout, memory, runtime=None, image=None):
    from sandbox import Limits, PoolConfig

    limits = build_config(Limits, FLAGS, timeout_s=timeout, memory_mb=memory)
    return build_config(
        PoolConfig, FLAGS, workers=workers, limits=limits, runtime=runtime, image=image
    )


def cluster_config(ray: str | None, workers: int | None):
    """The Ray cluster to run on, or None; says in one line how to install Ray if it is absent."""
    if ray is None:
        return None
    from sandbox.cluster import ClusterConfig, require_ray
    from sandbox.cluster.config import probe

    require_ray()
    cluster = build_config(
        ClusterConfig, {"workers_per_node": "--workers", "address": "--ray"},
        address=ray, workers_per_node=workers,
    )  # fmt: skip
    probe(cluster)
    return cluster


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
    memory: Memory = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
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
        config = pool_config(workers, timeout, memory, runtime, image)
        _run_batch(jobs, out, config, cluster_config(ray, workers))
        return
    if ray is not None:
        fail("--ray runs a --jobs file; a single --solution runs here")
    if solution is None or tests is None:
        fail("give --solution and --tests (or --jobs FILE)")
    _run_one(solution, tests, mode, pool_config(1, timeout, memory, runtime, image), as_json)


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


def _run_batch(jobs: Path, out: Path | None, config, cluster=None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sandbox.aio import run as run_async
    from sandbox.batch import count_and_validate, run_jobs_file

    total = count_and_validate(jobs)  # the only full check: before --out is opened
    counts: dict[str, int] = {}
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
        counts[result.status.value] = counts.get(result.status.value, 0) + 1
        progress.update(
            task, advance=1, description=" ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        )

    try:
        with progress:
            written = run_async(
                run_jobs_file(jobs, handle, config, on_result, total=total, cluster=cluster)
            )
    finally:
        if out:
            handle.close()
    stderr.print(json.dumps({"jobs": written, **counts}))
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
        log=lambda line: stderr.print(line, markup=False, highlight=False),
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
