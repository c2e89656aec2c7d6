"""The card and the report on a real generated dataset: the solver's pass-rate distribution
once it is labelled, and the diversity numbers the diversity pass computes, with how."""

from __future__ import annotations

import re
import shutil

import datasets
import pytest

from factory.dataset import diversity
from factory.publish.training import card_sections, collect_training_facts
from factory.training.labels import row_label, write_labels
from problems.taxonomy import load_taxonomy
from tests.support.cli import codefactory

pytestmark = pytest.mark.docker


@pytest.fixture
def labelled(generated, tmp_path):
    copy = tmp_path / generated.name
    shutil.copytree(generated, copy)
    train = datasets.load_from_disk(str(copy))["train"]
    (copy / "label").mkdir()
    write_labels(copy, [row_label(row["id"], "solver-x", 4, i * 3) for i, row in enumerate(train)])
    return copy


def test_card_states_pass_rates_and_diversity_with_their_method(labelled):
    done = codefactory("card", labelled)
    assert done.returncode == 0, done.stderr
    card = (labelled / "README.md").read_text()
    section = card.split("## Difficulty from a solver model")[1].split("\n## ")[0]
    assert "`solver-x`, 4 samples per row" in section and "KodCode" in section
    assert "Rows: 2 (easy 1, hard 1)" in section  # pass rates 0 and 3/4
    assert re.search(r"\| rows \| 1 \| 0 \| 0 \| 0 \| 0 \| 0 \| 0 \| 1 \| 0 \| 0 \|", section)

    train = datasets.load_from_disk(str(labelled))["train"]
    rows = [
        diversity.DiversityInput(
            r["id"], r["description"], r["solution"], r["topic"], r["difficulty"]
        )
        for r in train
    ]
    expected = diversity.lexical(rows)
    table = card.split("## Diversity")[1]
    assert f"| distinct-1 / 2 / 3 of descriptions | {expected.distinct_1:.3f} /" in table
    assert (
        f"| compression ratio of descriptions | {expected.compression_ratio:.2f} | bytes / gzip"
        in table
    )
    coverage = diversity.coverage(rows, load_taxonomy())
    assert (
        f"{coverage.entropy_bits:.2f} bits of the plan's {coverage.plan_entropy_bits:.2f}" in table
    )
    if diversity.semantic_available():
        assert "Semantic measures not computed: the embed extra is not installed" in table
    else:
        assert "| mean nearest-neighbour cosine distance |" in table
        assert "| clusters |" in table


def test_report_draws_the_pass_rates_and_the_map_by_topic(labelled, tmp_path):
    out = tmp_path / "report.html"
    done = codefactory("report", labelled, "--out", out)
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "id='plot-pass-rate'" in html and "id='plot-diversity'" in html
    pass_rates = html.split("id='plot-pass-rate'")[1].split("</figure>")[0]
    assert re.findall(r"class='bin' data-value='(\d+)'", pass_rates) == [
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "0",
        "1",
        "0",
        "0",
    ]
    if not diversity.semantic_available():
        points = html.split("id='plot-map'")[1].split("</figure>")[0]
        topics = sorted(re.findall(r"class='point' data-group='([^']*)'", points))
        train = datasets.load_from_disk(str(labelled))["train"]
        assert topics == sorted(train["topic"])


def test_an_unlabelled_dataset_says_how_to_label_it(generated):
    facts = collect_training_facts(generated, semantic=False)
    assert facts.labels is None and facts.diversity.semantic_skipped == "not asked for"
    assert "run `codefactory label DIR" in card_sections(facts)[0]


def test_stats_diversity_json_has_the_numbers(generated):
    done = codefactory("stats", generated, "--json", "--diversity")
    assert done.returncode == 0, done.stderr
    import json

    stats = json.loads(done.stdout)
    assert stats["splits"]["train"] == stats["diversity"]["rows"] == 2
    assert stats["labels"] is None
    assert 0 < stats["diversity"]["lexical"]["distinct_1"] <= 1
