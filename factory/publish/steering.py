"""The card's and the report's account of what steered a dataset: seed code, personas,
focus, the judge and evolution (lineage depth). Empty for a dataset none of it touched, so
such a card reads as it always did."""

from __future__ import annotations

from html import escape

from factory.dataset.stats import fingerprint_steering
from factory.dataset.steer_stats import steering_rows
from factory.publish.facts import DatasetFacts
from factory.run_fingerprint import RunFingerprint


def card_section(facts: DatasetFacts) -> str:
    """A "## Steering" section, or "" when nothing steered the rows."""
    lines = fingerprint_steering(facts.config) if facts.config else []
    rows = steering_rows(facts.stats.steering) if facts.stats.steering else []
    if not lines and not rows:
        return ""
    parts = ["## Steering"]
    if lines:
        parts.append("Settings of the run:\n\n" + "\n".join(f"- {k}: {v}" for k, v in lines))
    if rows:
        parts.append("In the rows:\n\n" + "\n".join(f"- {k}: {v}" for k, v in rows))
    steering = facts.stats.steering
    if steering and steering.judge_scores:
        table = "| judge score | rows |\n|---|---|\n" + "\n".join(
            f"| {score} | {n} |" for score, n in steering.judge_scores.items()
        )
        parts.append(table)
    if steering and any(int(depth) for depth in steering.lineage_depth):
        table = "| lineage depth | train rows |\n|---|---|\n" + "\n".join(
            f"| {depth} | {n} |" for depth, n in steering.lineage_depth.items()
        )
        parts.append(
            table + "\n\nDepth 0 rows are original problems; depth n rows are variants made "
            "harder n times (Evol-Instruct), each verified and kept only if its parent's "
            "solution fails its tests."
        )
    return "\n\n".join(parts)


def report_section(facts: DatasetFacts) -> str:
    """An HTML section for the report, or ""."""
    rows = steering_rows(facts.stats.steering) if facts.stats.steering else []
    rows = (fingerprint_steering(facts.config) if facts.config else []) + rows
    if not rows:
        return ""
    items = "".join(f"<li><b>{escape(k)}</b>: {escape(v)}</li>" for k, v in rows)
    return f"<h2>Steering</h2><ul>{items}</ul>"


def reproduce_flags(config: RunFingerprint) -> list[str]:
    """The flags that steer a run like ``config``'s (files named, since paths are local)."""
    args: list[str] = []
    if config.seed_code:
        for source in config.seed_code.sources:
            args += ["--seed-code", source.split("@")[0]]
        args += ["--seed-style", config.seed_code.style, "--seed-column", config.seed_code.column]
        if config.seed_code.reuse:
            args.append("--seed-reuse")
    if config.personas:
        args += ["--personas", "PERSONAS_FILE"]
    if config.focus:
        args += ["--focus", config.focus.results.split("@")[0]]
        args += ["--focus-dataset", config.focus.dataset]
    if config.judge:
        args += ["--judge-model", config.judge.model]
        args += ["--min-judge-score", str(config.judge.min_score)]
    if config.evolve:
        args += ["--rounds", str(config.evolve.rounds)]
        args += ["--operators", ",".join(config.evolve.operators)]
    return args
