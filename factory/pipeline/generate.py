"""``generate``: the one library call behind ``codefactory generate``.

Order matters for the user: everything local is validated first (taxonomy, an existing
``--out``'s configuration), then the endpoint is checked (``GET /models``: reachable, key
accepted, model served) before the sandbox starts or any completion is paid for; only then is
the output directory created or reopened for writing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from pydantic import BaseModel, ConfigDict

from factory.dataset.export import export_dataset
from factory.dataset.store import RunStore, store_path
from factory.errors import FactoryError
from factory.hygiene.stage import HygieneConfig, HygieneScreen
from factory.llm import LLMClient, LLMConfig
from factory.pipeline.config import GenerateConfig, run_fingerprint
from factory.pipeline.flow import FlowContext, RunIdentity, TitleRegistry
from factory.pipeline.gates import Gate
from factory.pipeline.progress import LiveDisplay, RunCounters
from factory.pipeline.runner import LoopSettings, run_loop
from factory.pipeline.sampler import StratifiedPlan
from factory.prompts import load_prompts
from factory.quality.config import QualityConfig
from factory.quality.generation import StrengthGate, static_precheck
from factory.records import SandboxInfo, Split
from factory.stages.base import Asker
from problems import Taxonomy, load_seeds, load_taxonomy
from sandbox import PoolConfig
from sandbox.cluster import ClusterConfig, open_pool
from sandbox.errors import SandboxError


class GenerateReport(BaseModel):
    """What a run did, printed as JSON on stdout by the CLI."""

    model_config = ConfigDict(extra="forbid")

    out: str
    count: int
    splits: dict[str, int]
    abandoned: int
    resumed_from: int
    this_run: dict[str, Any]
    llm: dict[str, int]
    structured_outputs: bool


def generator_version() -> str:
    try:
        return f"codefactory {metadata.version('codefactory')}"
    except metadata.PackageNotFoundError:
        return "codefactory (unknown version)"


async def generate(
    config: GenerateConfig,
    llm_config: LLMConfig,
    pool_config: PoolConfig,
    taxonomy: Taxonomy | None = None,
    *,
    gates: Sequence[Gate] = (),
    hygiene: HygieneConfig | None = None,
    quality: QualityConfig | None = None,
    console: Any = None,
    cluster: ClusterConfig | None = None,
) -> GenerateReport:
    """Fills ``config.out`` with ``config.count`` finished problems and exports the dataset.

    Resumes what is already in ``config.out``. ``console`` (a rich Console) gets the live
    display; None runs silently. ``quality`` (when enabled) adds the static precheck and the
    test-strength gate to ``gates``, and joins the run's fingerprint. ``cluster`` runs the
    sandbox jobs on a Ray cluster; the LLM client, plan, store and export stay here.
    """
    taxonomy = taxonomy or load_taxonomy()
    prompts = load_prompts(config.prompt_version)
    seeds = load_seeds()
    fingerprint = run_fingerprint(
        config,
        model=llm_config.model,
        prompt_hash=prompts.hash,
        taxonomy_hash=taxonomy.hash,
        timeout_s=pool_config.limits.timeout_s,
        memory_mb=pool_config.limits.memory_mb,
    )
    if hygiene is not None:
        fingerprint["hygiene"] = hygiene.fingerprint()
    strength = quality is not None and quality.enabled
    if strength:
        fingerprint["quality"] = quality.model_dump(mode="json")
    done_before = _precheck(config, fingerprint)
    counters = RunCounters(target=config.count, done_before=done_before)
    stats: dict[str, int] = {}
    structured = True
    if done_before >= config.count:
        store = RunStore.open(config.out, fingerprint, force_config=config.force_config)
        with contextlib.closing(store):
            await asyncio.to_thread(export_dataset, store, config.out)
            return _report(config, store, counters, stats, structured)

    # Benchmarks load before the endpoint is asked anything: a broken file costs nothing.
    screen = await asyncio.to_thread(HygieneScreen.load, hygiene) if hygiene else None
    async with LLMClient(llm_config) as llm:
        await llm.check()
        store = RunStore.open(config.out, fingerprint, force_config=config.force_config)
        with contextlib.closing(store):
            try:
                async with open_pool(pool_config, cluster) as pool:
                    identity = RunIdentity(
                        generator=generator_version(),
                        model=llm_config.model,
                        endpoint=", ".join(llm_config.endpoint_hosts),
                        prompt_version=prompts.version,
                        prompt_hash=prompts.hash,
                        taxonomy=taxonomy.name,
                        taxonomy_hash=taxonomy.hash,
                        run_seed=config.seed,
                        sandbox=SandboxInfo(
                            image=pool_config.image,
                            image_id=pool.image_id or "",
                            timeout_s=pool_config.limits.timeout_s,
                            memory_mb=pool_config.limits.memory_mb,
                            cpus=pool_config.limits.cpus,
                            network=pool_config.limits.network,
                        ),
                    )
                    asker = Asker(
                        llm=llm,
                        prompts=prompts,
                        temperature=config.temperature,
                        max_tokens=config.max_tokens,
                        max_reasks=config.max_reasks,
                        on_reask=counters.on_reask,
                    )
                    ctx = FlowContext(
                        asker=asker,
                        judge=pool.run,
                        gates=[*gates, StrengthGate(pool, quality)] if strength else gates,
                        titles=TitleRegistry(store.title_taken),
                        recent_titles=lambda topic: store.recent_titles(
                            topic, config.recent_titles
                        ),
                        counters=counters,
                        identity=identity,
                        max_repairs=config.max_repairs,
                        screen=screen.resume(store.iter_records(Split.TRAIN)) if screen else None,
                        precheck=static_precheck if strength else None,
                    )
                    settings = LoopSettings(
                        count=config.count,
                        in_flight=config.problems_in_flight(
                            llm_config.concurrency,
                            getattr(pool, "workers", pool_config.workers),
                        ),
                    )
                    display = (
                        LiveDisplay(counters, llm.stats, console)
                        if console is not None
                        else contextlib.nullcontext()
                    )
                    counters.started = time.monotonic()  # rates count the loop, not start-up
                    with display:
                        try:
                            await run_loop(
                                store,
                                StratifiedPlan(taxonomy, seeds, config.seed, config.few_shot),
                                ctx,
                                settings,
                            )
                        finally:
                            counters.stopped = time.monotonic()
                    structured = asker.structured.enabled
            except (FactoryError, SandboxError):
                # Publish what is finished, so the dataset on disk matches the store.
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(export_dataset, store, config.out)
                raise
            stats = llm.stats.as_dict()
            await asyncio.to_thread(export_dataset, store, config.out)
            return _report(config, store, counters, stats, structured)


def _precheck(config: GenerateConfig, fingerprint: dict[str, Any]) -> int:
    """Refuses a mismatched ``--out`` before anything is spent; returns problems already done."""
    if not store_path(config.out).is_file():
        RunStore.check_new_dir(config.out)
        return 0
    with RunStore.open_readonly(config.out) as store:
        store.check_config(fingerprint, force=config.force_config)
        return store.problems_done()


def _report(config, store: RunStore, counters: RunCounters, stats, structured) -> GenerateReport:
    counts = store.counts()
    abandoned = counts.pop("abandoned")
    return GenerateReport(
        out=str(config.out),
        count=config.count,
        splits=counts,
        abandoned=abandoned,
        resumed_from=counters.done_before,
        this_run=counters.as_dict(),
        llm=stats,
        structured_outputs=structured,
    )
