"""``generate``: the one library call behind ``codefactory generate``.

Order matters for the user: everything local is validated first (taxonomy, benchmark files,
an existing ``--out``'s configuration, checked once as its store is opened), then the endpoint
is checked (``GET /models``: reachable, key accepted, model served) before the sandbox starts
or any completion is paid for; only then is a new output directory created.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

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
from factory.pipeline.quality_gates import StrengthGate, static_precheck
from factory.pipeline.runner import LoopSettings, run_loop
from factory.pipeline.steering import Steering, load_steering, steer_prompts
from factory.prompts import PromptSet, load_prompts
from factory.quality.config import QualityConfig
from factory.records import SandboxInfo, Split
from factory.run_fingerprint import RunFingerprint
from factory.stages.base import Asker
from problems import Taxonomy, load_seeds, load_taxonomy
from sandbox.cluster import ClusterConfig, open_pool
from sandbox.errors import SandboxError

if TYPE_CHECKING:
    from sandbox import SandboxPool
    from sandbox.cluster.dispatch import ClusterPool


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
    focus_weights: dict[str, int] | None = None  # topic/difficulty -> weight (a --focus run)
    seed_snippets: int | None = None  # usable --seed-code snippets


def generator_version() -> str:
    try:
        return f"codefactory {metadata.version('codefactory')}"
    except metadata.PackageNotFoundError:
        return "codefactory (unknown version)"


async def generate(
    config: GenerateConfig,
    llm_config: LLMConfig,
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
    test-strength gate to ``gates``; ``hygiene`` screens accepted rows. Both join the run's
    fingerprint. ``cluster`` runs the sandbox jobs on a Ray cluster; the LLM client, plan,
    store and export stay here.
    """
    taxonomy = taxonomy or load_taxonomy()
    prompts = load_prompts(config.prompt_version)
    # Benchmarks load before the endpoint is asked anything: a broken file costs nothing.
    # With --seed-code they load first, since the seeds are checked against them.
    screen = None
    if hygiene is not None and config.seed_code:
        screen = await asyncio.to_thread(HygieneScreen.load, hygiene)
    steering = await asyncio.to_thread(
        load_steering, config, screen.decontaminator if screen else None
    )
    fingerprint = run_fingerprint(
        config,
        model=llm_config.model,
        prompt_hash=prompts.hash,
        taxonomy_hash=taxonomy.hash,
        quality=quality,
        hygiene=hygiene.fingerprint() if hygiene is not None else None,
    )
    fingerprint = steering.fingerprint(config, fingerprint)
    with contextlib.ExitStack() as closing:
        store = reopen_store(config, fingerprint)
        if store is not None:
            closing.callback(store.close)
        counters = RunCounters(
            target=config.count, done_before=store.problems_done() if store else 0
        )
        if counters.done_before >= config.count:
            store.record_config()
            return await export_report(
                config, store, counters, llm_stats={}, structured=True, steering=steering
            )

        if hygiene is not None and screen is None:
            screen = await asyncio.to_thread(HygieneScreen.load, hygiene)
        async with contextlib.AsyncExitStack() as clients:
            llm = await clients.enter_async_context(LLMClient(llm_config))
            await llm.check()
            rater = await open_judge(config, llm_config, llm, clients)
            if store is None:  # only now is a new --out created
                store = RunStore.open(config.out, fingerprint, force_config=config.force_config)
                closing.callback(store.close)
            store.record_config()  # a forced configuration, now that the run goes ahead
            run = Run(config, llm_config, llm, store, counters, prompts, taxonomy, cluster)
            try:
                structured = await run.loop(gates, quality, screen, console, steering, rater)
            except (FactoryError, SandboxError):
                # Publish what is finished, so the dataset on disk matches the store.
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(export_dataset, store, config.out)
                raise
            llm_stats = llm.stats.as_dict()
        return await export_report(config, store, counters, llm_stats, structured, steering)


async def open_judge(
    config: GenerateConfig,
    llm_config: LLMConfig,
    llm: LLMClient,
    clients: contextlib.AsyncExitStack,
):
    """The judge of ``--judge-model``: the run's endpoint unless ``--judge-base-url`` is given
    (checked now, like the model's, before any work); None without a judge."""
    if not config.judge_model:
        return None
    from factory.pipeline.judge import JudgeRater

    judge_llm = llm
    if config.judge_base_url or config.judge_model != llm_config.model:
        judge_config = llm_config.model_copy(
            update={
                "model": config.judge_model,
                "base_url": config.judge_base_url or llm_config.base_url,
            }
        )
        judge_llm = await clients.enter_async_context(LLMClient(judge_config))
        await judge_llm.check()
    return JudgeRater(judge_llm, config.judge_model, steer_prompts(), max_reasks=config.max_reasks)


def reopen_store(config: GenerateConfig, fingerprint: RunFingerprint) -> RunStore | None:
    """The store of an existing ``--out``, its configuration checked against ``fingerprint``.

    None for a new ``--out``, once it is known to be new or empty; nothing is created yet, so
    a run refused later (the endpoint unreachable) leaves no directory behind. Likewise a
    forced configuration is recorded only once the run goes ahead.
    """
    if not store_path(config.out).is_file():
        RunStore.check_new_dir(config.out)
        return None
    return RunStore.open(
        config.out, fingerprint, force_config=config.force_config, defer_record=True
    )


class Run:
    """One run's loop: the sandbox pool, the provenance rows share, and the flow's context.

    ``codefactory evolve`` builds its flow from the same parts (``asker``, ``context``).
    """

    def __init__(
        self,
        config: GenerateConfig,
        llm_config: LLMConfig,
        llm: LLMClient,
        store: RunStore,
        counters: RunCounters,
        prompts: PromptSet,
        taxonomy: Taxonomy | tuple[str, str],
        cluster: ClusterConfig | None = None,
    ) -> None:
        self.config = config
        self.llm_config = llm_config
        self.llm = llm
        self.store = store
        self.counters = counters
        self.prompts = prompts
        self.cluster = cluster
        # the taxonomy's name and hash, as rows record them
        self.taxonomy = (
            (taxonomy.name, taxonomy.hash) if isinstance(taxonomy, Taxonomy) else taxonomy
        )
        self.plan_taxonomy = taxonomy if isinstance(taxonomy, Taxonomy) else None

    def asker(self, steer: bool) -> Asker:
        config = self.config
        return Asker(
            llm=self.llm,
            prompts=self.prompts,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            max_reasks=config.max_reasks,
            on_reask=self.counters.on_reask,
            steer=steer_prompts() if steer else None,
        )

    def context(
        self,
        pool: SandboxPool | ClusterPool,
        asker: Asker,
        gates: Sequence[Gate],
        quality: QualityConfig | None,
        screen: HygieneScreen | None,
        rater: Any = None,
    ) -> FlowContext:
        config, store = self.config, self.store
        strength = quality is not None and quality.enabled
        return FlowContext(
            asker=asker,
            judge=pool.run,
            gates=[*gates, StrengthGate(pool, quality)] if strength else gates,
            titles=TitleRegistry(store.title_taken),
            recent_titles=lambda topic: store.recent_titles(topic, config.recent_titles),
            counters=self.counters,
            identity=self.identity(pool.image_id or ""),
            max_repairs=config.max_repairs,
            screen=screen.resume(store.iter_records(Split.TRAIN)) if screen else None,
            precheck=_precheck_for(quality, strength),
            seed_style=config.seed_style,
            rate=rater,
            min_judge_score=config.min_judge_score,
        )

    async def loop(
        self,
        gates: Sequence[Gate],
        quality: QualityConfig | None,
        screen: HygieneScreen | None,
        console: Any,
        steering: Steering,
        rater: Any = None,
    ) -> bool:
        """Runs the loop to ``config.count``; returns whether structured outputs stayed on."""
        config, store, counters = self.config, self.store, self.counters
        assert self.plan_taxonomy is not None
        asker = self.asker(steering.used)
        async with open_pool(config.sandbox, self.cluster) as pool:
            ctx = self.context(pool, asker, gates, quality, screen, rater)
            plan = steering.plan(config, self.plan_taxonomy, load_seeds())
            settings = LoopSettings(
                count=config.count,
                in_flight=config.problems_in_flight(self.llm_config.concurrency),
            )
            display = (
                LiveDisplay(counters, self.llm.stats, console)
                if console is not None
                else contextlib.nullcontext()
            )
            counters.started = time.monotonic()  # rates count the loop, not start-up
            with display:
                try:
                    await run_loop(store, plan, ctx, settings)
                finally:
                    counters.stopped = time.monotonic()
        return asker.structured.enabled

    def identity(self, image_id: str) -> RunIdentity:
        limits = self.config.sandbox.limits
        return RunIdentity(
            generator=generator_version(),
            model=self.llm_config.model,
            endpoint=", ".join(self.llm_config.endpoint_hosts),
            prompt_version=self.prompts.version,
            prompt_hash=self.prompts.hash,
            taxonomy=self.taxonomy[0],
            taxonomy_hash=self.taxonomy[1],
            run_seed=self.config.seed,
            sandbox=SandboxInfo(
                image=self.config.sandbox.image,
                image_id=image_id,
                timeout_s=limits.timeout_s,
                cpu_timeout_s=limits.cpu_timeout_s,
                memory_mb=limits.memory_mb,
                cpus=limits.cpus,
                network=limits.network,
            ),
        )


async def export_report(
    config: GenerateConfig,
    store: RunStore,
    counters: RunCounters,
    llm_stats: dict[str, int],
    structured: bool,
    steering: Steering,
) -> GenerateReport:
    """Rewrites ``config.out`` as a dataset from the store, and says what the run did."""
    await asyncio.to_thread(export_dataset, store, config.out)
    counts = store.counts()
    abandoned = counts.pop("abandoned")
    return GenerateReport(
        out=str(config.out),
        count=config.count,
        splits=counts,
        abandoned=abandoned,
        resumed_from=counters.done_before,
        this_run=counters.as_dict(),
        llm=llm_stats,
        structured_outputs=structured,
        focus_weights=steering.focus.weight_table() if steering.focus else None,
        seed_snippets=len(steering.seeds.snippets) if steering.seeds else None,
    )


def _precheck_for(quality: QualityConfig | None, strength: bool):
    """The checks before each sandbox run: the static checks with the gates, the forgery gate
    unless it is switched off (also when the other gates are)."""
    forgery = quality is None or quality.forgery_gate
    if not strength and not forgery:
        return None
    return functools.partial(static_precheck, static=strength, forgery=forgery)
