"""Steered runs end to end: real openai client, scripted HTTP endpoint, real sandbox.

One seeded run (a directory of real files, personas, a judge on another model name) resumed
to a larger count, then an evolve round over its accepted rows, then a run focused by
evaluation results on it. Each reads back what landed on disk, as a user would.
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest
from datasets import load_from_disk
from rich.console import Console

from factory.dataset.rows import dataset_rows
from factory.dataset.stats import render_stats, stats_for_dir
from factory.llm.scripted_server import ScriptedLLMServer
from factory.pipeline.config import GenerateConfig
from factory.pipeline.evolve import EvolveConfig, evolve_dataset
from factory.pipeline.generate import generate
from factory.publish.card import render_card
from factory.publish.facts import collect_facts
from factory.publish.report import render_report
from factory.records import DropReason, ProblemRecord, Split
from factory.stages.evolve import OPERATORS
from problems import load_taxonomy
from sandbox import Limits, PoolConfig
from tests.support.scripted_runs import MODEL, llm_config
from tests.support.seed_code import USABLE, write_seed_dir
from tests.support.steering_model import SteeringModel

pytestmark = pytest.mark.docker
JUDGE = "scripted-judge"
TAXONOMY = 'name = "offsets"\n[[topics]]\nname = "numbers"\nsubtopics = ["offsets", "sums"]\n'
PERSONAS = ["a bank's data team", "a game studio"]


def rows_of(out) -> dict[str, list[ProblemRecord]]:
    dataset = load_from_disk(str(out))
    return {
        split: [ProblemRecord.model_validate(row) for row in dataset[split]] for split in dataset
    }


@pytest.fixture(scope="module")
def steered(runner_image, tmp_path_factory):
    root = tmp_path_factory.mktemp("steered")
    seeds = write_seed_dir(root / "src")
    (root / "topics.toml").write_text(TAXONOMY)
    (root / "personas.txt").write_text("\n".join(PERSONAS) + "\n")
    taxonomy = load_taxonomy(root / "topics.toml")
    pool = PoolConfig(workers=2, image=runner_image, limits=Limits(timeout_s=5))
    model = SteeringModel(vague={2}, evolve_kinds=["harder", "same", "unchanged", "deeper"])

    def config(out, count, **extra):
        return GenerateConfig(out=out, count=count, max_repairs=0, sandbox=pool, **extra)

    seeded = {"seed_code": [seeds], "personas": root / "personas.txt", "judge_model": JUDGE}
    with ScriptedLLMServer(model, models=[MODEL, JUDGE]) as server:
        llm = llm_config(server.base_url)
        first = asyncio.run(generate(config(root / "a", 3, **seeded), llm, taxonomy))
        resumed = asyncio.run(generate(config(root / "a", 4, **seeded), llm, taxonomy))
        evolve = EvolveConfig(source=root / "a", generate=config(root / "b", 1), rounds=2)
        evolved = asyncio.run(evolve_dataset(evolve, llm))
        before_rerun = len(server.requests)
        evolved_again = asyncio.run(evolve_dataset(evolve, llm))  # resumes: nothing left to do
        rerun_requests = len(server.requests) - before_rerun
        train = rows_of(root / "a")["train"]
        failed = train[0]
        results = root / "a_results.jsonl"
        results.write_text(
            "".join(
                json.dumps(
                    {"task_id": row.id, "completion_id": 0, "result": "r",
                     "passed": row is not failed, "status": "failed" if row is failed else "passed"}
                ) + "\n"
                for row in train
            )
        )  # fmt: skip
        before_focus = len(model.problem_requests)
        focus_config = config(root / "c", 2, focus=results, focus_dataset=root / "a")
        focused = asyncio.run(generate(focus_config, llm, taxonomy))
    return SimpleNamespace(
        root=root,
        model=model,
        first=first,
        resumed=resumed,
        evolved=evolved,
        evolved_again=evolved_again,
        rerun_requests=rerun_requests,
        focused=focused,
        failed=failed,
        focus_requests=model.problem_requests[before_focus:],
    )


def test_each_problem_is_grounded_on_its_own_snippet_across_the_resume(steered):
    rows = [row for split in rows_of(steered.root / "a").values() for row in split]
    assert steered.first.seed_snippets == 4 and len(rows) == 4
    refs = [row.provenance.seed_code for row in rows]
    assert all(ref is not None for ref in refs)
    assert {ref.name for ref in refs} == USABLE  # four problems, four different snippets
    for row in rows:
        ref = row.provenance.seed_code
        assert ref.style == "snippet" and len(ref.sha256) == 64
        assert ref.source.startswith("src/") and ref.source.endswith(".py")
        if row.split == Split.TRAIN:  # the scripted model names the snippet it was shown
            assert f"Inspired by {ref.name}." in row.description
    with dataset_rows(steered.root / "a") as stored:
        settings = stored.config.seed_code
    assert settings.snippets == 4 and settings.skipped == {"duplicate": 1, "huge": 1, "trivial": 1}


def test_personas_are_dealt_like_topics_and_written_into_the_problem(steered):
    rows = [row for split in rows_of(steered.root / "a").values() for row in split]
    personas = [row.provenance.persona for row in rows]
    assert sorted(personas) == sorted(PERSONAS * 2)
    for row in rows:
        if row.split == Split.TRAIN:
            assert f"Written for {row.provenance.persona}." in row.description


def test_the_judge_rejects_the_vague_statement_with_its_reason(steered):
    splits = rows_of(steered.root / "a")
    (rejected,) = splits["rejected"]
    assert rejected.quality.judge.score == 2 and rejected.quality.judge.model == JUDGE
    assert "It never says what to compute." in rejected.failure_reason
    assert rejected.attempts[-1].rejection.gate == "judge"
    assert [row.quality.judge.score for row in splits["train"]] == [5, 5, 5]
    # the rubric is asked of the statement against the accepted solution and tests
    assert len(steered.model.judged) == 4
    for text in steered.model.judged:
        assert "consistent with the tests" in text
        assert "def add_offset" in text and "def test_offset" in text
    stats = stats_for_dir(steered.root / "a")
    assert stats.steering.judge_scores == {"2": 1, "5": 3}
    assert stats.steering.judge_rejected == 1
    facts = collect_facts(steered.root / "a")
    card = render_card(facts, license="mit")
    assert "## Steering" in card and "| judge score | rows |" in card
    assert "--judge-model scripted-judge" in card and "--seed-code src" in card
    assert "<h2>Steering</h2>" in render_report(facts) and "judge scores" in render_report(facts)
    console = Console(record=True, width=200)
    render_stats(stats, console)
    shown = console.export_text()
    assert "judge scores" in shown and "2: 1, 5: 3 (1 rejected)" in shown
    assert "seed code" in shown and "4 rows from 4 snippets" in shown


def test_evolve_keeps_the_harder_variant_and_drops_the_others_with_their_reason(steered):
    first, second = steered.evolved.rounds
    assert (first.parents, first.accepted, first.not_harder, first.statement_unchanged) == (
        3,
        1,
        1,
        1,
    )
    assert (second.round, second.parents, second.not_harder) == (2, 1, 1)
    splits = rows_of(steered.root / "b")
    parents = {row.id for row in rows_of(steered.root / "a")["train"]}
    (harder,) = splits["train"]
    assert "capped" in harder.title
    reasons = sorted(row.drop.reason for row in splits["dropped"])
    assert reasons == sorted([DropReason.NOT_HARDER] * 2 + [DropReason.STATEMENT_UNCHANGED])
    for row in splits["train"] + splits["dropped"]:
        assert row.lineage.operator in OPERATORS and row.lineage.root_id in parents
        if row.lineage.round == 1:
            assert row.lineage.parent_id == row.lineage.root_id
        else:  # round 2 rewrote round 1's accepted variant
            assert row.lineage.round == 2 and "deeper" in row.title
            assert (row.lineage.parent_id, row.lineage.root_id) == (
                harder.id,
                harder.lineage.root_id,
            )
    not_harder = next(r for r in splits["dropped"] if r.drop.reason == DropReason.NOT_HARDER)
    assert not_harder.drop.matched == not_harder.lineage.parent_id
    assert "parent's solution passes" in not_harder.failure_reason
    stats = stats_for_dir(steered.root / "b")
    assert stats.steering.lineage_depth == {"1": 1}
    assert steered.evolved_again.rounds == steered.evolved.rounds  # a rerun resumes
    assert steered.rerun_requests == 0  # no completion asked again for finished variants
    facts = collect_facts(steered.root / "b")
    funnel = {step.stage: step.count for step in facts.funnel}
    assert funnel["passed gates"] == 3 and funnel["harder than the parent"] == 1
    assert funnel["after decontamination"] == 1
    card = render_card(facts, license="mit")
    assert "| lineage depth | train rows |" in card and "evolve: 3 rows of a, 2 round(s)" in card
    assert "codefactory evolve a --base-url" in card and "--rounds 2 --operators" in card


def test_focus_weights_the_failed_cell_and_shows_the_failed_problem(steered):
    failed = steered.failed
    cell = f"numbers/{failed.difficulty.value}"
    weights = steered.focused.focus_weights
    assert weights[cell] == 4 and all(w == 1 for c, w in weights.items() if c != cell)
    with dataset_rows(steered.root / "c") as stored:
        assert stored.config.focus.weights == weights
        rows = list(stored.records)
    assert len(rows) == 2
    assert all(row.provenance.focus_examples == [failed.id] for row in rows)
    assert len(steered.focus_requests) == 2
    assert all(failed.title in request for request in steered.focus_requests)
