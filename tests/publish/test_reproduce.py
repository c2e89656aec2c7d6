"""The card's reproduce command, parsed by the real ``generate`` command, makes a run with the
very fingerprint the dataset's store holds: the card names every setting that decided the rows."""

from __future__ import annotations

import shlex

import typer

from factory.cli.generate_cmd import generate_request
from factory.cli.main import app
from factory.pipeline.config import run_fingerprint
from factory.prompts import load_prompts
from factory.publish.card import render_card
from factory.publish.facts import collect_facts


def test_the_reproduce_command_gives_the_stored_fingerprint(generated):
    facts = collect_facts(generated)
    card = render_card(facts, license="mit")
    command = shlex.split(card.split("## Reproduce")[1].split("```bash\n")[1].split("\n```")[0])
    assert command[:2] == ["codefactory", "generate"]

    generate = typer.main.get_command(app).commands["generate"]
    request = generate_request(generate.make_context("generate", command[2:]).params)
    rebuilt = run_fingerprint(
        request.config,
        model=request.llm.model,
        prompt_hash=load_prompts(request.config.prompt_version).hash,
        taxonomy_hash=request.taxonomy.hash,
        quality=request.quality,
        hygiene=request.hygiene.fingerprint(),
    )
    assert facts.config is not None
    assert rebuilt == facts.config
    assert rebuilt.sandbox.timeout_s == 5.0 and rebuilt.quality is None  # the fixture's run
