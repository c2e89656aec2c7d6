"""What the card and the report say about training use: the solver's pass rates (from
``codefactory label``) and the diversity of the train split (``factory.dataset.diversity``),
each number with how it was computed."""

from __future__ import annotations

from collections import Counter
from functools import cache
from html import escape
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from factory.dataset.diversity import Diversity, DiversityInput, Embedder, measure
from factory.dataset.rows import dataset_rows
from factory.hygiene.embed import fast_precision
from factory.hygiene.embed_cache import CachedEmbedder
from factory.publish import svg
from factory.records import Split
from factory.training.labels import (
    EASY_AT_LEAST,
    HARD_BELOW,
    RowLabel,
    pass_rate_histogram,
    read_labels,
)
from problems.taxonomy import load_taxonomy


class LabelSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    solvers: list[str]
    samples_per_row: list[int]
    rows: int
    difficulties: dict[str, int]
    histogram: list[int]
    pass_rates: list[float]


class TrainingFacts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: LabelSummary | None
    diversity: Diversity


@cache
def _embedder() -> Embedder:
    """bf16 where the CPU has it natively: on the 10,000-row benchmark corpus it moved the
    cosines by 0.0042 at most and 2 of 1,048 near-duplicate decisions, both within 0.0005 of
    the threshold (``factory.hygiene.embed``)."""
    return Embedder(fast_precision())


def collect_training_facts(out_dir: Path, *, semantic: bool = True) -> TrainingFacts:
    """Labels and diversity of ``out_dir``'s train split (the semantic part when asked for and
    installed: it embeds the descriptions not yet in ``out_dir``'s embedding cache)."""
    from factory.dataset.diversity import semantic_available
    from factory.hygiene.benchmarks import load_humaneval

    with dataset_rows(out_dir) as source:
        rows = [
            DiversityInput(r.id, r.description, r.solution, r.topic, r.difficulty.value)
            for r in source.records
            if r.split == Split.TRAIN
        ]
    labels = read_labels(out_dir)
    semantic = semantic and bool(rows) and not semantic_available()
    benchmark = [(task.key, task.description) for task in load_humaneval()] if semantic else []
    diversity = measure(
        rows,
        load_taxonomy(),
        benchmark,
        with_semantic=semantic,
        embedder=CachedEmbedder(_embedder(), out_dir) if semantic else None,
        cache_dir=out_dir,
    )
    return TrainingFacts(
        labels=_label_summary(labels.values()) if labels else None, diversity=diversity
    )


def _label_summary(labels) -> LabelSummary:
    labels: list[RowLabel] = list(labels)
    return LabelSummary(
        solvers=sorted({label.solver for label in labels}),
        samples_per_row=sorted({label.n for label in labels}),
        rows=len(labels),
        difficulties=dict(Counter(label.difficulty or "unjudged" for label in labels)),
        histogram=pass_rate_histogram(labels),
        pass_rates=[label.pass_rate for label in labels if label.pass_rate is not None],
    )


def card_sections(facts: TrainingFacts) -> list[str]:
    return [
        "## Difficulty from a solver model\n\n" + _labels_markdown(facts.labels),
        "## Diversity\n\n" + _diversity_markdown(facts.diversity),
    ]


def _labels_markdown(labels: LabelSummary | None) -> str:
    if labels is None:
        return (
            "Not measured: run `codefactory label DIR --base-url URL --model NAME` to sample a "
            "solver model on every train row and store its pass rate per row."
        )
    bins = " | ".join(f"{i / 10:.1f}" for i in range(10))
    counts = " | ".join(str(n) for n in labels.histogram)
    diffs = ", ".join(
        f"{name} {labels.difficulties.get(name, 0)}"
        for name in ("easy", "medium", "hard", "unjudged")
        if labels.difficulties.get(name)
    )
    return (
        f"Solver: {', '.join(f'`{s}`' for s in labels.solvers)}, "
        f"{'/'.join(map(str, labels.samples_per_row))} samples per row, each judged against the "
        "row's own tests in the sandbox (samples the sandbox could not run are not counted). "
        f"Pass rate = passing samples / judged samples. Difficulty uses KodCode's cut-offs: "
        f"easy at a pass rate >= {EASY_AT_LEAST:.3g}, hard below {HARD_BELOW:.3g}, medium "
        f"between. Rows: {labels.rows} ({diffs}). Each row's `pass_rate`, `label_difficulty` "
        "and `solver` are in the `rl` and `verl` exports, which filter on them "
        "(`--min-pass-rate`, `--max-pass-rate`).\n\n"
        f"| pass rate from | {bins} |\n|{' --- |' * 11}\n| rows | {counts} |"
    )


def _diversity_markdown(d: Diversity) -> str:
    lex = d.lexical
    lines = [
        "| measure | value | how it was computed |",
        "| --- | --- | --- |",
        f"| distinct-1 / 2 / 3 of descriptions | {lex.distinct_1:.3f} / {lex.distinct_2:.3f} / "
        f"{lex.distinct_3:.3f} | distinct word n-grams / all word n-grams over the train split |",
        f"| distinct 5-grams of code | {lex.code_distinct_5:.3f} | the same over 5-token windows "
        "of the solutions normalised as dedup does (names renamed by position, no comments, "
        "docstrings or layout) |",
        f"| compression ratio of descriptions | {lex.compression_ratio:.2f} | bytes / gzip -9 "
        "bytes of the descriptions joined by newlines; higher = more repetitive |",
    ]
    if d.coverage:
        c = d.coverage
        lines.append(
            f"| coverage entropy, topic x difficulty | {c.entropy_bits:.2f} bits of the plan's "
            f"{c.plan_entropy_bits:.2f} ({c.ratio:.0%}), {c.cells} of {c.plan_cells} cells | "
            "Shannon entropy of the rows per cell, against the plan's even spread over the "
            "bundled taxonomy (topics weighted by their subtopics) |"
        )
    s = d.semantic
    if s:
        lines += [
            f"| mean nearest-neighbour cosine distance | {s.mean_nn_distance:.3f} | "
            f"`{s.model}` embeddings of descriptions (matrix products in {s.precision}); each "
            "row's distance to its closest other row, averaged |",
            f"| clusters | {s.clusters} | leader clustering in row order at cosine >= "
            f"{s.cluster_similarity:g} |",
            f"| semantic near duplicates | {len(s.near_duplicates)} | rows whose description "
            f"has cosine >= {s.near_duplicate_cosine:g} (KodCode's threshold) to an earlier "
            "row's |",
            f"| close to a benchmark description | {len(s.benchmark_matches)} | the same check "
            "against HumanEval's 164 task descriptions |",
        ]
    text = "\n".join(lines)
    if s and (s.near_duplicates or s.benchmark_matches):
        pairs = [*s.near_duplicates, *s.benchmark_matches]
        text += "\n\n" + "\n".join(
            f"- `{p.id}` is close to `{p.neighbour}` (cosine {p.cosine:.3f})" for p in pairs[:50]
        )
    if not s:
        text += f"\n\nSemantic measures not computed: {d.semantic_skipped}."
    return text


def report_sections(facts: TrainingFacts) -> list[tuple[str, str, str, str]]:
    """(key, title, content, caption) of the report's figures."""
    figures = []
    if facts.labels:
        figures.append(
            (
                "pass-rate",
                "Solver pass rate per row",
                svg.histogram(facts.labels.pass_rates, color="#3b6fb6"),
                f"Share of {', '.join(facts.labels.solvers)}'s samples that pass each row's "
                f"tests; easy >= {EASY_AT_LEAST:.2g}, hard < {HARD_BELOW:.2g} (KodCode).",
            )
        )
    s = facts.diversity.semantic
    if s and s.map_2d:
        figures.append(
            (
                "map",
                "Descriptions, embedded (2-D)",
                svg.scatter(s.map_2d),
                f"{s.model} embeddings of the train rows' descriptions on their first two "
                "principal components, coloured by topic.",
            )
        )
    lex = facts.diversity.lexical
    figures.append(
        (
            "diversity",
            "Diversity",
            "<table id='diversity'>"
            + "".join(
                f"<tr><td>{escape(k)}</td><td>{v}</td></tr>"
                for k, v in (
                    (
                        "distinct-1 / 2 / 3",
                        f"{lex.distinct_1:.3f} / {lex.distinct_2:.3f} / {lex.distinct_3:.3f}",
                    ),
                    ("distinct code 5-grams", f"{lex.code_distinct_5:.3f}"),
                    ("compression ratio", f"{lex.compression_ratio:.2f}"),
                    *(
                        [
                            ("mean NN cosine distance", f"{s.mean_nn_distance:.3f}"),
                            ("clusters", str(s.clusters)),
                            ("semantic near duplicates", str(len(s.near_duplicates))),
                        ]
                        if s
                        else []
                    ),
                )
            )
            + "</table>",
            "How each is computed is in the dataset card.",
        )
    )
    return figures
