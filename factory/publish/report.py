"""``codefactory report DIR --out report.html``: the run at a glance, as one self-contained page.

Plots (inline SVG, see ``svg``): the funnel, how failures ended, repairs needed before the
code first passed, line coverage and mutation score of the accepted rows (or "not measured"),
and topic x difficulty coverage. A few headline numbers and the decontamination matches sit
above them. No script, no external file: the page opens anywhere, offline.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from factory.publish import svg
from factory.publish.facts import DatasetFacts, collect_facts
from factory.publish.steering import report_section
from factory.publish.training import TrainingFacts, report_sections

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 760px; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .4rem; }
.sub { color: #666; margin-top: 0; }
.numbers { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1.2rem 0; }
.number { background: #f3f5f8; border-radius: 6px; padding: .6rem .9rem; min-width: 130px; }
.number b { display: block; font-size: 1.35rem; }
.none { color: #888; font-style: italic; }
figure { margin: 0; }
figcaption { color: #666; font-size: .85rem; margin-top: .2rem; }
table { border-collapse: collapse; font-size: .9rem; }
td, th { border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: left; }
"""


def write_report(out_dir: Path, destination: Path) -> Path:
    from factory.publish.training import collect_training_facts

    text = render_report(collect_facts(out_dir), collect_training_facts(out_dir))
    destination.write_text(text, encoding="utf-8")
    return destination


def render_report(facts: DatasetFacts, training: TrainingFacts | None = None) -> str:
    stats = facts.stats
    per_row = f"{stats.tokens_per_accepted:,.0f}" if facts.accepted else "-"
    numbers = [
        ("accepted rows", f"{facts.accepted:,}"),
        ("acceptance", f"{stats.acceptance_rate:.0%}"),
        ("first-try pass", f"{stats.first_try_pass_rate:.0%}"),
        ("tokens / accepted row", per_row),
        ("dropped", f"{len(facts.dropped):,}"),
    ]
    body = [
        f"<h1>{escape(facts.name)}</h1>",
        f"<p class='sub'>{escape(', '.join(facts.provenance.models) or 'unknown model')} - "
        f"{escape(facts.provenance.first_started[:10])} to "
        f"{escape(facts.provenance.last_finished[:10])}</p>",
        "<div class='numbers'>"
        + "".join(f"<div class='number'><b>{v}</b>{escape(k)}</div>" for k, v in numbers)
        + "</div>",
        _figure(
            "funnel",
            "Funnel",
            svg.bars([(step.stage, step.count) for step in facts.funnel]),
            "Problems left at each stage, from planned slots to the published train split.",
        ),
        _figure("failures", "How failures ended", _failures(facts), _failures_caption(facts)),
        _figure(
            "repairs",
            "Repairs needed",
            svg.bars(_repairs(facts), color="#c28a2c"),
            "Repair rounds before the code first passed in the sandbox.",
        ),
        _figure(
            "coverage",
            "Line coverage of accepted rows",
            _distribution(facts.line_coverage, "#4c9a6a"),
            "Share of the solution's lines the tests run (coverage.py in the sandbox).",
        ),
        _figure(
            "mutation",
            "Mutation score of accepted rows",
            _distribution(facts.mutation_score, "#8a5bb4"),
            "Share of the solution's mutants the tests kill.",
        ),
        _figure(
            "topics",
            "Topic x difficulty (accepted rows)",
            _heatmap(facts),
            "Accepted rows per cell of the taxonomy; red cells have none.",
        ),
        "<h2>Decontamination and dedup</h2>" + _dropped(facts),
        report_section(facts),
        *(_figure(*figure) for figure in (report_sections(training) if training else [])),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(facts.name)}: codefactory report</title><style>{STYLE}</style></head>"
        "<body>" + "\n".join(body) + "</body></html>\n"
    )


def _figure(key: str, title: str, content: str, caption: str) -> str:
    return (
        f"<h2>{escape(title)}</h2><figure id='plot-{key}'>{content}"
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _failures(facts: DatasetFacts) -> str:
    items = list(facts.stats.failure_statuses.items())
    if not items:
        return "<p class='none'>No failures.</p>"
    return svg.bars(items, color="#c0504d")


def _failures_caption(facts: DatasetFacts) -> str:
    text = "Final sandbox status (or gate) of the problems that never passed."
    if facts.gate_rejections:
        rejected = sum(facts.gate_rejections.values())
        text += f" Gates sent {rejected} passing candidate(s) back to repair."
    return text


def _repairs(facts: DatasetFacts) -> list[tuple[str, float]]:
    items = [(f"{rounds} repair(s)", n) for rounds, n in facts.repairs_to_pass.items()]
    never = facts.stats.problems - facts.funnel[3].count
    return [*items, ("never passed", never)]


def _distribution(values: list[float], color: str) -> str:
    if not values:
        return "<p class='none'>not measured</p>"
    return svg.histogram(values, color=color)


def _heatmap(facts: DatasetFacts) -> str:
    if not facts.stats.coverage:
        return "<p class='none'>No rows.</p>"
    values = {(c.topic, c.difficulty): c.train for c in facts.stats.coverage}
    return svg.heatmap(facts.topics, facts.difficulties, values)


def _dropped(facts: DatasetFacts) -> str:
    if not facts.dropped:
        return "<p class='none'>Nothing was dropped.</p>"
    rows = "".join(
        f"<tr><td>{escape(row.title)}</td><td>{escape(row.reason)}</td>"
        f"<td><code>{escape(row.matched)}</code></td></tr>"
        for row in facts.dropped
    )
    return (
        "<table id='dropped'><tr><th>problem</th><th>reason</th><th>matched</th></tr>"
        f"{rows}</table>"
    )
