"""``codefactory card``, ``push`` and ``report``: publish a generated dataset and show it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from factory.cli.common import build_config, fail, stderr

Directory = Annotated[
    Path, typer.Argument(help="The --out directory of `codefactory generate`.", show_default=False)
]
DEFAULT_ENDPOINT = "https://huggingface.co"


def card(
    directory: Directory,
    license: Annotated[
        str, typer.Option("--license", help="Licence id for the card's metadata.")
    ] = "apache-2.0",
    name: Annotated[
        str | None, typer.Option("--name", help="Pretty name (default: the directory's name).")
    ] = None,
) -> None:
    """Write DIR/README.md: the Hugging Face dataset card, every figure read from the data."""
    from factory.publish.card import write_card

    _need_dir(directory)
    path = write_card(directory, license=license, pretty_name=name)
    print(path)


def push(
    directory: Directory,
    repo: Annotated[str, typer.Option("--repo", help="Hub dataset repository, OWNER/NAME.")],
    private: Annotated[bool, typer.Option("--private", help="Create the repo private.")] = False,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Hub write token (or set HF_TOKEN).", show_default=False),
    ] = None,
    export_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Push the train split as this export (sft, rl, verl) instead of the rows.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Push the splits (Parquet) and the card to the Hugging Face Hub in one commit.

    The endpoint is HF_ENDPOINT if set (a mirror or a private Hub). Rows dropped by dedup or
    decontamination are not pushed. Without DIR/README.md the card is written first.
    """
    from factory.publish.push import PushConfig, push_dataset

    _need_dir(directory)
    if export_format is not None and export_format not in ("sft", "rl", "verl"):
        fail(f"invalid --format {export_format!r}: use sft, rl or verl (see codefactory export)")
    token = token or os.environ.get("HF_TOKEN") or _saved_token()
    if not token:
        fail(
            "no Hugging Face token: pass --token or set HF_TOKEN to a write token "
            "(or log in once with `hf auth login`)"
        )
    config = build_config(
        PushConfig,
        {"repo_id": "--repo", "endpoint": "HF_ENDPOINT"},
        repo_id=repo,
        token=token,
        endpoint=os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT,
        private=private,
    )
    stderr.print(f"pushing {directory} to {config.endpoint} as {config.repo_id} ...")
    result = push_dataset(directory, config, export_format)
    print(result.model_dump_json())
    stderr.print(
        f"pushed {', '.join(f'{s} {n}' for s, n in result.rows.items())} to {result.repo_url}"
    )


def report(
    directory: Directory,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path("report.html"),
) -> None:
    """Write one self-contained HTML page of plots: funnel, failures, repairs, test strength,
    topic x difficulty coverage."""
    from factory.publish.report import write_report

    _need_dir(directory)
    try:
        path = write_report(directory, out)
    except OSError as exc:
        fail(f"cannot write --out {out}: {exc.strerror or exc}")
    print(path)


def _need_dir(directory: Path) -> None:
    if not directory.is_dir():
        fail(f"{directory} is not a directory: give the --out directory of `codefactory generate`")


def _saved_token() -> str | None:
    from huggingface_hub import get_token

    return get_token()
