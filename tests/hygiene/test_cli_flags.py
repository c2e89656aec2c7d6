"""``generate``'s dedup and decontamination flags: bad values are one line, before any request."""

from __future__ import annotations

import subprocess
import sys

import pytest


def generate(tmp_path, *flags):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "factory.cli.main",
            "generate",
            "--model",
            "m",
            "--count",
            "1",
            "--out",
            str(tmp_path / "out"),
            "--base-url",
            "http://127.0.0.1:9/v1",  # nothing listens: the flags must fail first
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--dedup-threshold", "1.5"], "invalid --dedup-threshold (got 1.5)"),
        (["--dedup-threshold", "0"], "invalid --dedup-threshold (got 0.0)"),
        (["--mbpp", "missing.jsonl"], "MBPP file not found: missing.jsonl"),
        (["--benchmark-file", "BROKEN"], "line 2: not valid JSON"),
    ],
)
def test_bad_hygiene_flags_are_one_clear_line(tmp_path, flags, message):
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"task_id": 1, "description": "Sum a list of numbers."}\n{oops\n')
    flags = [str(broken) if flag == "BROKEN" else flag for flag in flags]
    done = generate(tmp_path, *flags)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr
    assert not (tmp_path / "out").exists()
