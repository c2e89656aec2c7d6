"""With ``--ray``, stdout carries the command's result only: what a library prints there from
its own threads (Ray's driver reports a lost node on ``sys.stdout``) goes to stderr."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import sys, threading
sys.argv = ["codefactory", "eval", "humaneval", "--ray", "auto"]
from factory.cli import main as entry
from factory.cli.common import results

def command():
    thread = threading.Thread(target=lambda: print("(raylet) a node was marked dead"))
    thread.start()
    thread.join()
    print('{"pass_at_k": {"1": 1.0}}', file=results())

entry.app = command
entry.main()
"""


def test_library_output_stays_off_the_result_stream():
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{"pass_at_k": {"1": 1.0}}\n'
    assert "(raylet) a node was marked dead" in done.stderr
