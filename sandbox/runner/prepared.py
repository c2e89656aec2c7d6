"""A pytest session prepared once in the job process, run again in each variant's child.

A full ``pytest.main`` costs tens of milliseconds of CPU before the first test runs: parsing
the options, loading and configuring the plugins, building the fixture manager from them, and
at its end two rounds of garbage collection over everything the process holds. None of it
depends on the solution, so the job process does it once (:func:`prepare`), before any variant,
and each variant's child, forked from it, only collects ``test_solution.py`` in its own fresh
copy of the job's files (so the test module, executed again, binds the variant's ``solution``)
and runs the collected tests through pytest's own protocol: fixtures, parametrize, marks,
``pytest.raises`` and classes behave exactly as in a session of their own, and the reports go
through the same hooks. Nothing of a variant reaches the job process: the child exits without
returning, and the next child starts again from the prepared state.

Preparing runs none of the job's code: the job's own files are only pytest's inputs when they
are ``solution.py`` and ``test_solution.py`` (any other file, a ``conftest.py`` or an ini file
among them, and each variant gets a session of its own as before).
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import pytest
from _pytest.assertion import rewrite
from _pytest.config import _prepareconfig
from _pytest.main import ExitCode, Session

PYTEST_ARGS = (
    "-q",
    "-s",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:pastebin",
    "-p",
    "no:junitxml",
    "--import-mode=prepend",
)


class Relay:
    """The events target of the prepared session's reporter, set in each child."""

    def __init__(self):
        self.target = None

    def emit(self, **event) -> None:
        if self.target is not None:
            self.target.emit(**event)


class Prepared:
    """A configured pytest session for ``test_solution.py`` (``tests``) in ``where``."""

    def __init__(self, where: str, tests: str, reporter_class):
        self.where = where
        self.relay = Relay()
        args = [*PYTEST_ARGS, "--rootdir", where, "test_solution.py"]
        here = os.getcwd()
        os.makedirs(where)
        os.chdir(where)  # the invocation directory, which the children share
        try:
            self.config = _prepareconfig(args, plugins=[reporter_class(self.relay)])
            self.config._do_configure()
            self.session = Session.from_config(self.config)
            self.session.exitstatus = ExitCode.OK
            self.config.hook.pytest_sessionstart(session=self.session)
            _compile_once(os.path.join(where, "test_solution.py"), tests, self.config)
        finally:
            os.chdir(here)
            os.rmdir(where)
        gc.collect()
        gc.freeze()  # the children's collections leave the prepared objects' pages shared

    def run(self, events, stop_at_first_failure: bool) -> None:
        """In a variant's child, in ``where``: collects and runs the tests; ``completed`` once
        the session is over."""
        config, session = self.config, self.session
        self.relay.target = events
        # A variant's tracebacks are left out of its events (``Tagged``): the style that builds
        # none (no source read for any frame), the same crash messages.
        config.option.tbstyle = "no"
        if stop_at_first_failure:
            config.option.maxfail = 1
        sys.path.insert(0, self.where)
        try:
            try:
                config.hook.pytest_collection(session=session)
                config.hook.pytest_runtestloop(session=session)
                if session.testsfailed:
                    session.exitstatus = ExitCode.TESTS_FAILED
                elif session.testscollected == 0:
                    session.exitstatus = ExitCode.NO_TESTS_COLLECTED
            except pytest.UsageError:
                session.exitstatus = ExitCode.USAGE_ERROR
            except session.Failed:
                session.exitstatus = ExitCode.TESTS_FAILED
            except (KeyboardInterrupt, pytest.exit.Exception) as exc:
                # A collection error ends up here too (pytest's ``Interrupted``). pytest.main
                # would now call ``pytest_keyboard_interrupt``, whose built-in implementations
                # only print (the terminal's: a long traceback of pytest's own frames, tens of
                # milliseconds, for its summary) or stop capturing (off here, ``-s``); a
                # variant's terminal output is read by nothing, so it is not called.
                code = getattr(exc, "returncode", None)
                session.exitstatus = code if code is not None else ExitCode.INTERRUPTED
            except BaseException:
                session.exitstatus = ExitCode.INTERNAL_ERROR
            config.hook.pytest_sessionfinish(session=session, exitstatus=session.exitstatus)
        finally:
            sys.stdout.flush()
        events.emit(event="completed")


def _compile_once(path: str, tests: str, config) -> None:
    """Rewrites the asserts of ``tests`` and compiles it once, here, as pytest's import hook
    would; each child's import of ``path`` then takes that code object (immutable, executed in
    the child's fresh module) instead of parsing, rewriting and compiling the same bytes again.
    Any other bytes, at that path or another, are rewritten as pytest always does."""
    source = tests.encode("utf-8")
    original = rewrite._rewrite_test
    with open(path, "wb") as fh:
        fh.write(source)
    try:
        compiled = original(Path(path), config)
    finally:
        os.unlink(path)

    def rewrite_test(fn, config):
        if str(fn) == path and fn.read_bytes() == source:
            return compiled
        return original(fn, config)

    rewrite._rewrite_test = rewrite_test


def applies(job: dict) -> bool:
    """Whether a prepared session gives each variant what a session of its own would: only the
    solution and its tests are pytest's inputs."""
    return job.get("mode") == "pytest" and not job.get("files")
