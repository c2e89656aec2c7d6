"""The real ``codefactory`` command in a subprocess, the way a user runs it, and its error
contract: bad input is one line on stderr starting with ``error:``, exit status 2, no traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys

CODEFACTORY = [sys.executable, "-m", "factory.cli.main"]


def codefactory(
    *args: object, env_extra: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Runs ``codefactory ARGS``; ``OPENAI_*`` of the outer environment never leak in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
    env.update(env_extra or {})
    return subprocess.run(
        [*CODEFACTORY, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env
    )


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> str:
    """Checks the bad-input contract and returns the line; each fragment must be in it."""
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]
