"""``codefactory eval`` in a subprocess, the installed console command as a user runs it, and
the bad-input contract its tests check (one ``error:`` line on stderr, exit status 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLI = [str(Path(sys.executable).parent / "codefactory"), "eval"]


def codefactory(*args, timeout=300):
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=os.environ
    )


def write(path, *records):
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in records))
    return path


def bad_input(result, message):
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
