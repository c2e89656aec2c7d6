"""The dataset card: valid Hub metadata, and every figure taken from the generated data."""

from __future__ import annotations

import pytest
import yaml
from huggingface_hub import DatasetCard

from factory.dataset.stats import stats_for_dir
from factory.publish.card import size_category
from factory.publish.facts import collect_facts
from factory.records import DropReason, Split
from tests.support.cli import assert_one_line_error, codefactory


@pytest.fixture(scope="module")
def card_text(generated) -> str:
    done = codefactory("card", generated, "--license", "mit", timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(generated / "README.md")
    return (generated / "README.md").read_text()


def test_metadata_loads_as_a_hub_dataset_card(card_text, generated):
    facts = collect_facts(generated)
    card = DatasetCard.load(generated / "README.md")
    data = card.data.to_dict()
    assert data["license"] == "mit"
    assert data["task_categories"] == ["text-generation"]
    assert data["language"] == ["en"]
    assert data["size_categories"] == ["n<1K"]
    # every split with rows except dropped; empty ones (rejected: no gates ran) are left out
    published = [s.value for s in Split if s != Split.DROPPED and facts.splits[s.value]]
    assert published == ["train", "failures"]
    assert data["configs"] == [
        {
            "config_name": "default",
            "data_files": [{"split": s, "path": f"data/{s}-*"} for s in published],
        }
    ]
    assert yaml.safe_load(card_text.split("---\n")[1]) == data


def test_the_funnel_has_a_count_at_every_stage(card_text):
    funnel = card_text.split("## Funnel")[1].split("##")[0]
    expected = {
        "proposed": 5,
        "passed first try": 3,  # close, rle, rle-again
        "passed after repairs": 4,  # + intervals, repaired once
        "passed gates": 4,
        "after dedup": 3,
        "after decontamination": 2,
    }
    for stage, count in expected.items():
        assert f"| {stage} | {count} |" in funnel, stage


def test_first_try_pass_rate_is_the_stats_figure(card_text, generated):
    stats = stats_for_dir(generated)  # what `codefactory stats` prints
    # train rows with no repair: rle only (intervals needed one; close and rle-again dropped)
    assert stats.first_try_pass_rate == pytest.approx(1 / 5)
    rates = card_text.split("## Pass rates and repairs")[1].split("##")[0]
    labelled = [line for line in rates.splitlines() if "first-try pass rate" in line]
    assert len(labelled) == 1
    assert f"first-try pass rate: {stats.first_try_pass_rate:.1%} " in labelled[0]
    # the funnel's step (first attempt passed the sandbox, any split) has its own label
    assert "- first attempt passed the sandbox: 60.0% " in rates
    assert f"acceptance rate (in `train`): {stats.acceptance_rate:.1%}" in rates


def test_dropped_rows_carry_their_hygiene_stage(generated):
    facts = collect_facts(generated)
    assert all(row.stage == DropReason(row.reason).stage for row in facts.dropped)
    assert sorted(row.stage for row in facts.dropped) == ["decontamination", "dedup"]
    steps = {step.stage: step.count for step in facts.funnel}
    assert steps["passed gates"] - steps["after dedup"] == 1
    assert steps["after dedup"] - steps["after decontamination"] == 1


def test_provenance_gates_cost_and_decontamination_come_from_the_data(card_text, generated):
    facts = collect_facts(generated)
    assert "scripted-coder" in card_text
    assert "local, OpenAI-compatible" in card_text
    assert facts.provenance.prompt_hashes[0] in card_text
    assert "temperature 0.8" in card_text
    assert "Jaccard >= 0.85" in card_text
    assert "13-gram word overlap" in card_text
    per_row = facts.stats.tokens["total"].total_tokens / 2
    assert f"{per_row:,.0f} tokens per accepted row" in card_text
    assert "`humaneval:HumanEval/0`" in card_text
    assert "line coverage: not measured" in card_text
    assert "## Known limitations" in card_text


def test_the_reproduce_command_is_the_run_settings(card_text):
    command = card_text.split("```bash\n")[1].split("\n```")[0]
    assert command.startswith("codefactory generate --base-url http://127.0.0.1:")
    for part in ("--model scripted-coder", "--count 5", "--max-repairs 1", "--seed 0"):
        assert part in command
    assert "--timeout 5" in command and "--dedup-threshold 0.85" in command


@pytest.mark.parametrize(
    ("rows", "category"), [(0, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (250_000, "100K<n<1M")]
)
def test_size_category(rows, category):
    assert size_category(rows) == category


def test_a_directory_that_is_no_dataset_is_one_clear_error(tmp_path):
    assert_one_line_error(codefactory("card", tmp_path, timeout=120), "not a codefactory dataset")
