"""``generate``'s dedup and decontamination flags: bad values are one line, before any request."""

from __future__ import annotations

import pytest

from tests.support.cli import assert_one_line_error, codefactory


def generate(tmp_path, *flags):
    # nothing listens at the base URL: the flags must fail first
    out = tmp_path / "out"
    return codefactory(
        "generate", "--model", "m", "--count", "1", "--out", out,
        "--base-url", "http://127.0.0.1:9/v1", *flags, timeout=120,
    )  # fmt: skip


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
    assert_one_line_error(generate(tmp_path, *flags), message)
    assert not (tmp_path / "out").exists()
