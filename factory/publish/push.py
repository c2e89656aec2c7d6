"""``codefactory push``: the dataset's splits as Parquet plus its card, in one Hub commit.

What lands in the repository::

    README.md                               the dataset card (``codefactory card``)
    data/train-00000-of-00001.parquet       one or more shards per split
    data/failures-00000-of-00001.parquet
    ...

The card's ``configs`` point each split at its shards (``factory.publish.layout``), which is
how the Hub's viewer and ``datasets.load_dataset(repo)`` find the splits. Splits are written
by ``datasets`` (``Dataset.to_parquet``) and sent by ``huggingface_hub`` (``create_repo``,
then ``create_commit`` with every file), so a push is all or nothing: a failed upload leaves
the repository as it was. Dropped rows and empty splits are not pushed (see the layout module).
"""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from factory.errors import ConfigError, FactoryError
from factory.publish.layout import published_splits, shard_path

MAX_SHARD_BYTES = 500 * 1024 * 1024
REPO_ID_PATTERN = r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$"


class PushFailed(FactoryError):
    """The Hub could not be reached, or refused the push."""


class PushConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repo_id: str = Field(description="OWNER/NAME")
    token: SecretStr
    endpoint: str = Field(pattern=r"^https?://", description="the Hub's base URL")
    private: bool = False
    commit_message: str = "Upload dataset made with codefactory"

    @field_validator("repo_id")
    @classmethod
    def _owner_and_name(cls, repo_id: str) -> str:
        if not re.fullmatch(REPO_ID_PATTERN, repo_id):
            raise ValueError("give the repository as OWNER/NAME, e.g. alice/my-dataset")
        return repo_id


class PushResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo_url: str
    commit: str
    files: dict[str, int] = Field(description="path in the repository -> bytes")
    rows: dict[str, int] = Field(description="split -> rows pushed")


def push_dataset(out_dir: Path, config: PushConfig, export_format: str | None = None) -> PushResult:
    """Pushes ``out_dir``'s exported splits and its card to ``config.repo_id``.

    The card is ``out_dir/README.md`` as it is (edit it freely after ``codefactory card``);
    without one, it is written first. With ``export_format`` (``sft``, ``rl``, ``verl``) the
    train split goes up in that trainer's format instead (``codefactory export``), with a card
    of its own that declares that one split and says which format it holds.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    dataset = _load(out_dir)
    if not dataset.get("train") or dataset["train"].num_rows == 0:
        raise ConfigError(f"{out_dir} has no accepted rows (train is empty): nothing to publish")
    with tempfile.TemporaryDirectory(prefix="codefactory-push-") as staging:
        card = out_dir / "README.md"
        if export_format is not None:
            dataset, card = _as_export(out_dir, export_format, Path(staging))
        elif not card.is_file():
            from factory.publish.card import write_card

            write_card(out_dir)
        api = HfApi(endpoint=config.endpoint, token=config.token.get_secret_value())
        files, rows = _write_parquet(dataset, Path(staging))
        operations = [CommitOperationAdd("README.md", str(card))] + [
            CommitOperationAdd(path, str(Path(staging) / path)) for path in files
        ]
        with _hub_errors(config):
            url = api.create_repo(
                config.repo_id, repo_type="dataset", private=config.private, exist_ok=True
            )
            commit = api.create_commit(
                config.repo_id,
                operations,
                commit_message=config.commit_message,
                repo_type="dataset",
            )
        files["README.md"] = card.stat().st_size
    return PushResult(repo_url=str(url), commit=commit.oid, files=files, rows=rows)


def _as_export(out_dir: Path, export_format: str, staging: Path):
    """The train split in ``export_format`` and its card, written under ``staging``."""
    from datasets import load_from_disk

    from factory.publish.card import render_card
    from factory.publish.facts import collect_facts
    from factory.publish.training import collect_training_facts
    from factory.training.export import ExportConfig, export_training

    try:
        export = ExportConfig(format=export_format, out=staging / "export")
    except ValueError:
        raise ConfigError(f"invalid --format {export_format!r}: use sft, rl or verl") from None
    result = export_training(out_dir, export)
    facts = collect_facts(out_dir)
    facts = facts.model_copy(update={"splits": {"train": result.rows}})
    card_text = render_card(facts, license="apache-2.0", training=collect_training_facts(out_dir))
    card_text += (
        f"\n## Format of this repository\n\nThe `train` split holds the `{export_format}` export "
        f"of the verified rows (`codefactory export DIR --format {export_format}`), not the raw "
        "rows the structure above describes.\n"
    )
    card = staging / "README.md"
    card.write_text(card_text, "utf-8")
    return load_from_disk(str(staging / "export")), card


def _load(out_dir: Path):
    from datasets import DatasetDict, load_from_disk

    if not (out_dir / "dataset_dict.json").is_file():
        raise ConfigError(
            f"{out_dir} holds no exported dataset (no dataset_dict.json): "
            "give the --out directory of a finished `codefactory generate`"
        )
    dataset = load_from_disk(str(out_dir))
    if not isinstance(dataset, DatasetDict):
        raise ConfigError(f"{out_dir} holds a single split, not a dataset with splits")
    return dataset


def _write_parquet(dataset, staging: Path) -> tuple[dict[str, int], dict[str, int]]:
    import datasets

    bars_were_enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        return _write_shards(dataset, staging)
    finally:
        if bars_were_enabled:
            datasets.enable_progress_bars()


def _write_shards(dataset, staging: Path) -> tuple[dict[str, int], dict[str, int]]:
    files: dict[str, int] = {}
    rows: dict[str, int] = {}
    (staging / "data").mkdir()
    for split in published_splits({name: part.num_rows for name, part in dataset.items()}):
        part = dataset[split]
        shards = max(1, math.ceil(part.data.nbytes / MAX_SHARD_BYTES))
        for index in range(shards):
            path = shard_path(split, index, shards)
            part.shard(shards, index, contiguous=True).to_parquet(str(staging / path))
            files[path] = (staging / path).stat().st_size
        rows[split] = part.num_rows
    return files, rows


class _hub_errors:
    """Turns what ``huggingface_hub`` and ``httpx`` raise into one line saying what to do."""

    def __init__(self, config: PushConfig) -> None:
        self.config = config

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> bool:
        if error is None:
            return False
        from huggingface_hub.errors import HfHubHTTPError

        where = self.config.endpoint
        if isinstance(error, HfHubHTTPError) and error.response is not None:
            status = error.response.status_code
            if status == 401:
                message = f"the Hub at {where} refused the token (401): pass a valid write token"
            elif status == 403:
                message = (
                    f"the token may not write to {self.config.repo_id} (403): use a write token "
                    "of an account that owns or belongs to that namespace"
                )
            else:
                detail = " ".join(str(error).split())[:200]
                message = f"the Hub at {where} answered {status}: {detail}"
            raise PushFailed(message) from None
        if isinstance(error, OSError) or _is_transport_error(error):
            raise PushFailed(
                f"cannot reach the Hub at {where} ({type(error).__name__}): check the network, "
                "or HF_ENDPOINT if you use a mirror"
            ) from None
        return False


def _is_transport_error(error: BaseException) -> bool:
    """Connection refused, DNS, timeouts: ``httpx``'s ``TransportError`` family (the HTTP
    client ``huggingface_hub`` vendors has changed names between releases, so match by name)."""
    return any(cls.__name__ == "TransportError" for cls in type(error).__mro__)
