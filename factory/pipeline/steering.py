"""What steers a run's plan besides the taxonomy: seed snippets, personas, a focus, a judge.

Loaded once, before the endpoint is asked anything (a missing path or an empty seed set is a
one-line error that costs nothing), recorded in the run fingerprint (so a resumed run keeps
them), and handed to the plan and the flow. A run that uses none of them gets the plan, the
prompts and the fingerprint it always had.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.errors import ConfigError
from factory.grounding.code_seeds import SeedPool, load_seed_pool
from factory.grounding.focus import Focus, load_focus
from factory.grounding.personas import load_personas
from factory.pipeline.config import GenerateConfig
from factory.prompts import PromptSet, load_prompts
from factory.run_fingerprint import FocusSettings, JudgeSettings, RunFingerprint, SeedCodeSettings
from problems import Taxonomy
from problems.loader import SeedProblem
from problems.plan import StratifiedPlan

STEER_PROMPTS = "steer-v1"


@dataclass(frozen=True)
class Steering:
    seeds: SeedPool | None = None
    personas: tuple[str, ...] = ()
    focus: Focus | None = None
    focus_dataset: Path | None = None

    @property
    def used(self) -> bool:
        return bool(self.seeds or self.personas or self.focus)

    def plan(
        self, config: GenerateConfig, taxonomy: Taxonomy, seeds: tuple[SeedProblem, ...]
    ) -> StratifiedPlan:
        focus = self.focus
        return StratifiedPlan(
            taxonomy,
            seeds,
            config.seed,
            config.few_shot,
            weights=focus.weights if focus else None,
            personas=self.personas,
            snippets=self.seeds.snippets if self.seeds else (),
            reuse_snippets=config.seed_reuse,
            focus=focus.examples if focus else None,
        )

    def fingerprint(self, config: GenerateConfig, base: RunFingerprint) -> RunFingerprint:
        """``base`` with the steering this run uses; unchanged for a run that uses none."""
        extra: dict[str, Any] = {}
        if self.seeds is not None:
            extra["seed_code"] = SeedCodeSettings(
                sources=self.seeds.sources,
                column=config.seed_column,
                style=config.seed_style,
                reuse=config.seed_reuse,
                snippets=len(self.seeds.snippets),
                skipped=dict(sorted(self.seeds.skipped.items())),
            )
        if self.personas:
            extra["personas"] = list(self.personas)
        if self.focus is not None:
            assert config.focus is not None and self.focus_dataset is not None
            extra["focus"] = FocusSettings(
                results=f"{self.focus.results}@{_file_hash(config.focus)}",
                dataset=self.focus_dataset.name,
                weights=self.focus.weight_table(),
            )
        if config.judge_model:
            extra["judge"] = JudgeSettings(
                model=config.judge_model,
                min_score=config.min_judge_score,
                rubric_hash=steer_prompts().hash,
            )
        return base.model_copy(update=extra) if extra else base


def load_steering(config: GenerateConfig, decontaminator: Any = None) -> Steering:
    """The run's steering, validated; raises a one-line error for bad input."""
    for given, needs, flag in (
        (config.judge_base_url, config.judge_model, "--judge-base-url needs --judge-model"),
        (config.focus_dataset, config.focus, "--focus-dataset needs --focus RESULTS"),
    ):
        if given is not None and not needs:
            raise ConfigError(f"{flag}: give both, or neither")
    seeds = None
    if config.seed_code:
        seeds = load_seed_pool(config.seed_code, config.seed_column, decontaminator)
        if not config.seed_reuse and len(seeds.snippets) < config.count:
            raise ConfigError(
                f"--seed-code gave {len(seeds.snippets)} usable snippets for --count "
                f"{config.count}, and each is used once: add sources, lower --count, or "
                "pass --seed-reuse"
            )
    personas = load_personas(config.personas) if config.personas else ()
    focus, dataset = None, None
    if config.focus is not None:
        dataset = config.focus_dataset or config.out
        focus = load_focus(config.focus, dataset)
    return Steering(seeds=seeds, personas=personas, focus=focus, focus_dataset=dataset)


def steer_prompts() -> PromptSet:
    return load_prompts(STEER_PROMPTS)


def _file_hash(path: Path) -> str:
    from factory.grounding.focus import RESULTS_FILE

    path = path / RESULTS_FILE if path.is_dir() else path
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
