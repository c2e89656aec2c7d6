"""The runner image's tag covers every file that goes into it (no Docker needed)."""

from __future__ import annotations

import ast
import shutil

import pytest

from sandbox import image

RUNNER_MODULES = {"worker.py", "zygote.py", "job.py", "cleanup.py"}


def test_every_runner_module_goes_into_the_image():
    modules = {path.name for path in image.RUNNER_DIR.glob("*.py")}
    assert modules >= RUNNER_MODULES
    assert set(image.runner_files()) == modules | {"Dockerfile.runner", "requirements.txt"}


@pytest.mark.parametrize("name", sorted(RUNNER_MODULES | {"requirements.txt", "Dockerfile.runner"}))
def test_the_tag_changes_with_any_runner_file(tmp_path, monkeypatch, name):
    copy = tmp_path / "runner"
    shutil.copytree(image.RUNNER_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "wheels"))
    monkeypatch.setattr(image, "RUNNER_DIR", copy)
    before = image.default_image()
    (copy / name).write_text((copy / name).read_text() + "\n# changed\n")
    assert image.default_image() != before


def test_the_job_process_forgets_every_runner_module_but_the_main_one():
    """A job with its own ``job.py`` must import it, not the runner's (see ``job.py``)."""
    tree = ast.parse((image.RUNNER_DIR / "job.py").read_text())
    forgotten = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "RUNNER_MODULES"
    )
    shipped = {path.stem for path in image.RUNNER_DIR.glob("*.py")} - {"worker", "__init__"}
    assert set(forgotten) == shipped
