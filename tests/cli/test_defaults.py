"""Every default of the CLI is the library default it stands for, so the command and a Python
caller of the same library function get the same run; and every command's help is grouped."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from factory.cli.generate_cmd import generate_request
from factory.cli.main import app
from factory.evaluate.model_eval import SamplingConfig
from factory.evaluate.runner import EvalConfig
from factory.hygiene.decontam import DecontaminationConfig
from factory.hygiene.dedup import DedupConfig
from factory.hygiene.stage import HygieneConfig
from factory.llm import LLMConfig
from factory.pipeline.config import GenerateConfig
from factory.publish.card import write_card
from factory.quality.config import QualityConfig
from sandbox import Job, Limits
from sandbox.image import build_image

CLI = typer.main.get_command(app)
RUN = GenerateConfig(out=Path("x"), count=1)  # what generate() runs with when given no more
LLM = LLMConfig(base_url="http://127.0.0.1:9/v1", model="m")
EVAL = EvalConfig()
EVAL_COMMANDS = ["eval humaneval", "eval mbpp", "eval dataset", "eval model"]


def command(path: str):
    found = CLI
    for name in path.split():
        found = found.commands[name]
    return found


def options(path: str) -> dict:
    found = {p.opts[0]: p for p in command(path).params if p.param_type_name == "option"}
    assert found, path
    return found


def library(path: str, flag: str):
    """The library default each defaulted option stands for (None: CLI-only, said why)."""
    generate = {
        "--temperature": RUN.temperature,
        "--max-tokens": RUN.max_tokens,
        "--seed": RUN.seed,
        "--max-repairs": RUN.max_repairs,
        "--max-reasks": RUN.max_reasks,
        "--timeout": RUN.sandbox.limits.timeout_s,
        "--memory": RUN.sandbox.limits.memory_mb,
        "--min-coverage": QualityConfig().min_coverage,
        "--min-mutation-score": QualityConfig().min_mutation_score,
        "--min-tests": QualityConfig().min_tests,
        "--min-asserts": QualityConfig().min_asserts,
        "--max-mutants": QualityConfig().max_mutants,
        "--mutant-timeout": QualityConfig().mutant_timeout_s,
        "--dedup-threshold": DedupConfig().threshold,
        "--decontaminate": DecontaminationConfig().enabled,
        "--seed-column": RUN.seed_column,
        "--seed-style": RUN.seed_style,
        "--min-judge-score": RUN.min_judge_score,
    }
    evolve = {**generate, "--rounds": _evolve_config().model_fields["rounds"].default}
    evaluate = {
        "--timeout": EVAL.pool.limits.timeout_s,
        "--cpu-timeout": EVAL.pool.limits.cpu_timeout_s,
        "--memory": EVAL.pool.limits.memory_mb,
        "--k": ",".join(map(str, EVAL.ks)),
        "--split": inspect.signature(_load_benchmark()).parameters["split"].default,
        "--benchmark": "humaneval",  # CLI-only: which benchmark to ask for when none is named
    }
    table = {
        "generate": generate,
        "evolve": evolve,
        **dict.fromkeys(EVAL_COMMANDS, evaluate),
        "sandbox run": {
            "--timeout": Limits().timeout_s,
            "--cpu-timeout": Limits().cpu_timeout_s,
            "--memory": Limits().memory_mb,
            "--mode": Job.model_fields["mode"].default,
        },
        "sandbox build": {"--mirror": inspect.signature(build_image).parameters["mirror"].default},
        "card": {"--license": inspect.signature(write_card).parameters["license"].default},
        "report": {"--out": Path("report.html")},  # CLI-only: where the page goes
    }
    return table[path][flag]


def _evolve_config():
    from factory.pipeline.evolve import EvolveConfig

    return EvolveConfig


def _load_benchmark():
    from factory.evaluate.benchmarks import load_benchmark

    return load_benchmark


COMMANDS = [
    "generate",
    "evolve",
    "stats",
    *EVAL_COMMANDS,
    "sandbox run",
    "sandbox build",
    "sandbox prune",
    "card",
    "push",
    "report",
]


@pytest.mark.parametrize("path", COMMANDS)
def test_every_value_default_of_a_command_is_its_library_default(path):
    for flag, option in options(path).items():
        if option.is_flag or option.default is None:
            continue  # a switch off, or the config's own default applies (checked below)
        assert option.default == library(path, flag), f"{path} {flag}"


# Options left None so the config's own default applies; their help shows that default.
SHOWN = [
    ("generate", "--concurrency", LLM.concurrency),
    ("generate", "--request-timeout", LLM.timeout_s),
    ("generate", "--max-retries", LLM.max_retries),
    ("eval model", "--concurrency", LLM.concurrency),
    ("eval model", "--n", SamplingConfig().n),
    ("eval model", "--temperature", SamplingConfig().temperature),
    ("eval model", "--max-tokens", SamplingConfig().max_tokens),
]


@pytest.mark.parametrize(("path", "flag", "value"), SHOWN)
def test_an_option_left_to_its_config_shows_the_config_default(path, flag, value):
    option = options(path)[flag]
    assert option.default is None
    assert float(option.show_default) == value


def test_every_switch_defaults_to_the_library_behaviour():
    generate = options("generate")
    assert generate["--no-gates"].default is (not QualityConfig().enabled)
    assert generate["--no-dedup"].default is (not DedupConfig().enabled)
    assert generate["--force-config"].default is RUN.force_config


def test_generate_with_only_the_required_flags_builds_what_a_python_caller_gets(tmp_path):
    args = ["--model", "m", "--count", "1", "--out", "x", "--base-url", LLM.base_url]
    params = command("generate").make_context("generate", args).params
    request = generate_request(params)
    assert request.config == RUN
    assert request.config.sandbox.limits.timeout_s == 10.0  # not the 30 s of a bare Limits()
    assert request.llm == LLM
    assert request.quality == QualityConfig()
    assert request.hygiene == HygieneConfig()


@pytest.mark.parametrize("path", COMMANDS)
def test_help_of_every_command_renders_without_markup_loss(path):
    runner = CliRunner()
    done = runner.invoke(app, [*path.split(), "--help"], terminal_width=200)
    assert done.exit_code == 0, done.output
    assert "Usage:" in done.output
    for option in options(path).values():
        assert option.opts[0] in done.output


def test_generate_help_groups_its_options_in_panels():
    panels = {option.rich_help_panel for option in options("generate").values()}
    assert panels == {
        "Model",
        "Run",
        "Sandbox",
        "Quality gates",
        "Hygiene",
        "Seed code",
        "Steering",
    }
    done = CliRunner().invoke(app, ["generate", "--help"], terminal_width=200)
    for panel in panels:
        assert f"─ {panel} ─" in done.output
    assert "OPENAI_BASE_URL" in done.output  # not swallowed as markup
