"""Semantic dedup: a row whose description means what a kept row's does is dropped, naming it,
in a real generate run (scripted model, real sandbox) and across a resumed one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from datasets import load_from_disk

from factory.hygiene.dedup import DedupConfig
from factory.hygiene.embed import embed_missing
from factory.hygiene.semantic import SemanticDedupConfig, SemanticDeduplicator
from factory.hygiene.stage import HygieneConfig
from factory.llm import LLMConfig
from factory.llm.scripted_server import ScriptedLLMServer
from factory.pipeline.config import GenerateConfig
from factory.pipeline.generate import generate
from factory.records import DropReason, ProblemRecord
from sandbox import Limits, PoolConfig
from tests.conftest import IN_CI
from tests.support.hygiene_model import HygieneModel
from tests.support.scripted_runs import MODEL

# In CI the embed extra is installed (setup.sh --test): a missing one fails there.
pytestmark = pytest.mark.skipif(bool(embed_missing()) and not IN_CI, reason=embed_missing() or "-")


@dataclass
class Row:
    id: str
    description: str


def test_a_paraphrase_is_dropped_naming_the_kept_row():
    dedup = SemanticDeduplicator(SemanticDedupConfig(enabled=True))
    kept = Row("a", "Return the sum of all even numbers in a list of integers.")
    dedup.add(kept)
    drop = dedup.check(Row("b", "Return the sum of all the even numbers in a list of integers."))
    assert drop is not None and drop.reason == DropReason.SEMANTIC_DUPLICATE
    assert drop.matched == "a" and drop.stage == "dedup" and "cosine 0.9" in drop.detail
    assert dedup.check(Row("c", "Find the shortest path between two nodes of a graph.")) is None
    assert SemanticDeduplicator(SemanticDedupConfig()).check(kept) is None  # off by default


def _run(out, order, count, image):
    hygiene = HygieneConfig(
        dedup=DedupConfig(enabled=False), semantic=SemanticDedupConfig(enabled=True)
    )
    with ScriptedLLMServer(HygieneModel(order), models=[MODEL]) as server:
        asyncio.run(
            generate(
                GenerateConfig(
                    out=out,
                    count=count,
                    max_repairs=1,
                    sandbox=PoolConfig(workers=2, image=image, limits=Limits(timeout_s=5)),
                ),
                LLMConfig(base_url=server.base_url, model=MODEL, concurrency=1),
                hygiene=hygiene,
            )
        )
    dataset = load_from_disk(str(out))
    return {split: [ProblemRecord.model_validate(r) for r in dataset[split]] for split in dataset}


@pytest.mark.docker
def test_generate_drops_semantic_duplicates_and_remembers_them_on_resume(runner_image, tmp_path):
    out = tmp_path / "semantic"
    rows = _run(out, ["rle", "intervals", "rle-again"], 3, runner_image)
    (rle,) = [row for row in rows["train"] if row.entry_point == "run_length_encode"]
    (again,) = rows["dropped"]
    assert again.drop.reason == DropReason.SEMANTIC_DUPLICATE and again.drop.matched == rle.id
    assert again.quality.near_duplicate_of == rle.id

    rows = _run(out, ["rle-third"], 4, runner_image)  # resumed: the index comes from the store
    assert {row.title for row in rows["dropped"]} == {
        "Run-length encode a string",
        "Compress runs of characters",
    }
    assert all(row.drop.matched == rle.id for row in rows["dropped"])
