"""Scripted runs of ``generate``: the model name the scripted servers serve, the client settings
the tests use, and one whole run with dedup and decontamination on (shared by the hygiene and
publish tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from datasets import load_from_disk

from factory.hygiene.stage import HygieneConfig
from factory.llm import LLMConfig
from factory.llm.scripted_server import ScriptedLLMServer
from factory.pipeline.config import GenerateConfig
from factory.pipeline.generate import generate
from factory.records import ProblemRecord
from sandbox import Limits, PoolConfig
from tests.support.hygiene_model import HygieneModel

MODEL = "scripted-coder"


def llm_config(base_url: str, **overrides) -> LLMConfig:
    """Four requests at once and quick retries, so scripted faults cost little time."""
    values = {"concurrency": 4, "backoff_base_s": 0.05, "max_retries": 4, **overrides}
    return LLMConfig(base_url=base_url, model=MODEL, **values)


def hygiene_run(out: Path, order: list[str], count: int, image: str) -> dict:
    """``count`` problems of :class:`HygieneModel` in ``order``, hygiene on; the report and the
    rows of every split, read back from disk."""
    with ScriptedLLMServer(HygieneModel(order), models=[MODEL]) as server:
        report = asyncio.run(
            generate(
                GenerateConfig(
                    out=out,
                    count=count,
                    max_repairs=1,
                    sandbox=PoolConfig(workers=2, image=image, limits=Limits(timeout_s=5)),
                ),
                LLMConfig(base_url=server.base_url, model=MODEL, concurrency=4),
                hygiene=HygieneConfig(),
            )
        )
    dataset = load_from_disk(str(out))
    rows = {
        split: [ProblemRecord.model_validate(row) for row in dataset[split]] for split in dataset
    }
    return {"report": report, "rows": rows}
