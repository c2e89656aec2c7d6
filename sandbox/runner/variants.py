"""Variants: other solutions judged by the same tests inside one job (the quality gates' do-nothing
solutions, emptied module and mutants), each in a fresh forked child with its own CPU budget.

Why one job: each variant as a job of its own pays a round trip to the host, a container
clean-up and a wall-clock limit with a floor high enough for a loaded machine. Here the job
process, which already has pytest and its plugins imported and the tests checked, forks one
child per variant. The job's own solution runs first (under coverage when asked), then once
more the way a variant runs, in the variants' own session without coverage (the reference):
that run's CPU time sets every variant's budget (``cpu_factor`` x, at least ``cpu_floor_s``,
at most ``cpu_timeout_s``), so a mutant that loops is stopped after a few multiples of what the
real solution needs in the same place, measured by the kernel's accounting (``cputime.py``),
not by the clock. (The session under coverage costs several times a variant's run: the start
of pytest, the tracer, the analysis; it is the basis only if the reference run does not pass
cleanly.) The reference runs only for variants whose budget it can change. Each
child runs in a fresh copy of the job's files, and after it ends every process it left is
killed and the scratch space and its copy emptied, so no variant sees another's effects. A
variant whose ``line`` the job's own solution never executed is not run.

The variants share one pytest session prepared after the job's own solution ran
(``prepared.py``): a child then only collects and runs the tests against its own solution, a
few milliseconds instead of a full ``pytest.main``. A job with files of its own besides the
solution and its tests gives each variant a full session of its own, as before.

The variants' outcomes go through the job's event channel, tagged with the variant's id: like
coverage they are a quality measurement of code that is trusted to behave, never the verdict
of the job itself, which the host decides from the job's own solution's events as always.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import time
from collections.abc import Callable

import prepared
from cleanup import WORK_ROOT, kill_all_but, remove_sysv_ipc, wipe_dir
from cputime import CpuMeter

VARIANTS_DIR = os.path.join(WORK_ROOT, "variants")
SCRATCH = ("/tmp", "/dev/shm", "/dev/mqueue")
POLL_S = 0.01
SWEEP_LIMIT = 2000


class Tagged:
    """An event writer for one session: adds the variant's id (none for the job's own
    solution), leaves a variant's tracebacks out (only outcomes and messages judge a variant,
    and the channel's size is shared), and tells the supervising process, through ``facts``,
    what it needs to know of the session: whether it passed, whether any test passed, and the
    coverage measured."""

    def __init__(self, events, variant: str, facts: int | None = None):
        self._events = events
        self._variant = variant
        self._facts = facts
        self._failed: set[str] = set()
        self._called: set[str] = set()

    def emit(self, **event) -> None:
        kind = event.get("event")
        if kind == "test_phase":
            if event.get("outcome") != "passed" or event.get("xfail"):
                self._failed.add(event["name"])
            elif event.get("phase") == "call":
                self._called.add(event["name"])
        elif self._facts is not None and kind == "session_finished":
            self._tell(
                exitstatus=event.get("exitstatus"),
                collected=event.get("collected"),
                any_test_passed=bool(self._called - self._failed),
            )
        elif self._facts is not None and kind == "coverage" and not event.get("error"):
            self._tell(
                missing=event.get("missing_lines", []),
                statements=event.get("statements", 0),
                branches=event.get("branches", 0),
                missing_branches=event.get("missing_branches", 0),
            )
        if self._variant:
            event["variant"] = self._variant
            event.pop("traceback", None)
        self._events.emit(**event)

    def _tell(self, **fact) -> None:
        # One short line each, far below a pipe's capacity.
        os.write(self._facts, (json.dumps(fact) + "\n").encode())


def run_all(
    job: dict,
    events,
    run_dir: str,
    session: Callable[[dict, object, str], None],
    reporter: Callable | None = None,
) -> None:
    """Runs the job's own solution, then each variant; ``session(job, events, run_dir)`` runs
    one pytest session in ``run_dir`` and emits its events (``completed`` last). With
    ``reporter`` (the pytest plugin class that turns reports into events), the variants share
    one session prepared after the job's own solution ran (``prepared.py``) where it applies."""
    keep = {1, os.getpid(), os.getppid()}
    pristine = os.path.join(VARIANTS_DIR, "pristine")  # the job's files before anything ran
    shutil.copytree(run_dir, pristine, symlinks=True)
    baseline = _run_child(
        lambda facts: session(job, Tagged(events, "", facts), run_dir),
        cpu_budget=None,
        wall_s=None,
        keep=keep,
    )
    events.emit(event="baseline_end", cpu_s=round(baseline.cpu_s, 4))
    if not baseline.passed_cleanly:
        return  # the gates judge no variant of a solution its tests do not pass
    executed_missing = set(baseline.missing_lines or [])
    shared = _prepare(job, reporter) if reporter is not None else None
    passed: set[str] = set()  # variants that passed
    some_passed: set[str] = set()  # variants of which at least one test passed
    reference: float | None = None  # the job's own solution's CPU time as a variant
    for index, variant in enumerate(job["variants"]):
        name = variant["id"]
        why = _not_worth_running(variant, baseline, executed_missing, passed, some_passed)
        if why:
            events.emit(event="variant_skipped", variant=name, why=why)
            continue
        where = shared.where if shared else os.path.join(VARIANTS_DIR, str(index))
        if reference is None and float(variant["cpu_floor_s"]) < float(variant["cpu_timeout_s"]):
            reference = _reference(job, variant, events, pristine, where, shared or session, keep)
        basis = baseline.cpu_s if reference is None or reference < 0 else reference
        budget = min(
            float(variant["cpu_timeout_s"]),
            max(float(variant["cpu_floor_s"]), float(variant["cpu_factor"]) * basis),
        )
        events.emit(event="variant_start", variant=name, cpu_budget_s=round(budget, 3))
        outcome = _run_child(
            lambda facts, v=variant, d=where: _variant_session(
                job, v, events, facts, pristine, d, shared or session
            ),
            cpu_budget=budget,
            wall_s=float(variant["timeout_s"]),
            keep=keep,
        )
        _wipe(where)
        events.emit(
            event="variant_end",
            variant=name,
            limit=outcome.limit,
            cpu_s=round(outcome.cpu_s, 4),
            duration_s=round(outcome.duration_s, 4),
            exit_code=outcome.exit_code,
            signal=outcome.signal,
        )
        if outcome.passed_cleanly:
            passed.add(name)
        if outcome.any_test_passed:
            some_passed.add(name)


def _reference(job, variant, events, pristine, where, session, keep) -> float:
    """The CPU time of the job's own solution run the way ``variant`` will run (the same
    session, no coverage), the basis of the variants' budgets; -1 if that run did not pass
    cleanly (tests that depend on what ran before them measure nothing like a variant there,
    and the session under coverage, which costs more, is the basis instead)."""
    own = {"id": "reference", "solution": job["solution"]}
    outcome = _run_child(
        lambda facts: _variant_session(job, own, _Dropped(), facts, pristine, where, session),
        cpu_budget=float(variant["cpu_timeout_s"]),
        wall_s=float(variant["timeout_s"]),
        keep=keep,
    )
    _wipe(where)
    events.emit(event="reference_end", cpu_s=round(outcome.cpu_s, 4), passed=outcome.passed_cleanly)
    return outcome.cpu_s if outcome.passed_cleanly else -1.0


class _Dropped:
    """The events of the reference run: only its facts (passed cleanly or not) are kept."""

    def emit(self, **event) -> None:
        pass


def _not_worth_running(
    variant: dict, baseline: _Outcome, missing: set[int], passed: set[str], some: set[str]
) -> str:
    """Why ``variant`` need not run, from the job's own solution's coverage and the earlier
    variants' outcomes, or ``""``."""
    if variant.get("line") is not None and variant["line"] in missing:
        return "line never executed"
    for earlier in variant.get("unless_passed") or ():
        if earlier in passed:
            return f"not run: {earlier} passed, so a gate has already failed"
    for earlier in variant.get("unless_any_test_passed") or ():
        if earlier in some:
            return f"not run: a test passed against {earlier}, so a gate has already failed"
    for key, rate in (
        ("min_line_rate", baseline.line_rate),
        ("min_branch_rate", baseline.branch_rate),
    ):
        wanted = variant.get(key)
        if wanted is not None and (rate is None or rate < wanted):
            return f"not run: the coverage is below {wanted:g}, so a gate has already failed"
    return ""


def _prepare(job: dict, reporter: Callable) -> prepared.Prepared | None:
    """The variants' shared session, or None where each needs a session of its own."""
    if not prepared.applies(job):
        return None
    try:
        return prepared.Prepared(os.path.join(VARIANTS_DIR, "run"), job["tests"], reporter)
    except Exception:  # a session of its own for each variant still judges it
        return None


def _variant_session(job: dict, variant: dict, events, facts, pristine: str, where: str, session):
    """In the variant's child: its own copy of the job's files, its solution, one session (the
    prepared one, or ``session`` of its own)."""
    if os.path.lexists(where):  # what an earlier variant left that its clean-up could not remove
        _wipe(where)
    shutil.copytree(pristine, where, symlinks=True)
    with open(os.path.join(where, "solution.py"), "w", encoding="utf-8") as fh:
        fh.write(variant["solution"])
    os.chdir(where)
    tagged = Tagged(events, variant["id"], facts)
    stop = bool(variant.get("stop_at_first_failure"))
    if isinstance(session, prepared.Prepared):
        session.run(tagged, stop_at_first_failure=stop)
        return
    own = {key: value for key, value in job.items() if key != "variants"}
    own["coverage"] = False
    own["stop_at_first_failure"] = stop
    session(own, tagged, where)


class _Outcome:
    def __init__(self):
        self.limit: str | None = None
        self.cpu_s = 0.0
        self.duration_s = 0.0
        self.exit_code: int | None = None
        self.signal: int | None = None
        self.missing_lines: list[int] | None = None
        self.exitstatus: int | None = None
        self.collected = 0
        self.any_test_passed = False
        self.line_rate: float | None = None
        self.branch_rate: float | None = None

    @property
    def passed_cleanly(self) -> bool:
        """Ran to its end, every test passed (pytest's exit status 0), at least one ran."""
        return (
            self.limit is None
            and self.exit_code == 0
            and self.exitstatus == 0
            and self.collected > 0
        )


def _run_child(body, cpu_budget: float | None, wall_s: float | None, keep: set[int]) -> _Outcome:
    """Forks a child that runs ``body(coverage_pipe)``, stops it at its CPU or wall limit,
    then kills whatever it left and empties the scratch space."""
    outcome = _Outcome()
    meter = CpuMeter(excluded=sorted(keep))
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            if cpu_budget is not None:  # a backstop the child cannot raise, in whole seconds
                hard = int(cpu_budget) + 2
                resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
            body(write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    waiter = _pidfd(pid)
    status = None
    try:
        while status is None:
            done, status_word = os.waitpid(pid, os.WNOHANG)
            if done:
                status = status_word
                break
            if cpu_budget is not None and meter.used() >= cpu_budget:
                outcome.limit = "cpu"
            elif wall_s is not None and time.monotonic() - started >= wall_s:
                outcome.limit = "wall"
            if outcome.limit:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                break
            if waiter is not None:
                select.select([waiter], [], [], POLL_S)
            else:
                time.sleep(POLL_S / 4)
    finally:
        if waiter is not None:
            os.close(waiter)
    outcome.duration_s = time.monotonic() - started
    _sweep(keep)
    outcome.cpu_s = meter.used()
    if os.WIFEXITED(status):
        outcome.exit_code = os.WEXITSTATUS(status)
    elif os.WIFSIGNALED(status):
        outcome.signal = os.WTERMSIG(status)
    data = _read_all(read_end)
    os.close(read_end)
    for line in data.splitlines():
        try:
            fact = json.loads(line)
            if "missing" in fact:  # the same arithmetic as the host's CoverageReport
                missing = sorted({int(number) for number in fact["missing"]})
                statements, branches = int(fact["statements"]), int(fact["branches"])
                outcome.missing_lines = missing
                covered = max(0, statements - len(missing))
                outcome.line_rate = covered / statements if statements else 1.0
                covered = max(0, branches - int(fact["missing_branches"]))
                outcome.branch_rate = covered / branches if branches else 1.0
            else:
                outcome.exitstatus = int(fact["exitstatus"])
                outcome.collected = int(fact["collected"] or 0)
                outcome.any_test_passed = bool(fact["any_test_passed"])
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    for path in SCRATCH:
        _wipe(path)
    remove_sysv_ipc()
    return outcome


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _read_all(fd: int) -> bytes:
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _sweep(keep: set[int]) -> None:
    """SIGKILLs every process but ``keep`` until only zombies (already dead) are left."""
    kill_all_but(keep, SWEEP_LIMIT, 0.001)


def _wipe(path: str) -> None:
    try:
        wipe_dir(path)
        if path.startswith(VARIANTS_DIR):
            os.rmdir(path)
    except OSError:
        pass
