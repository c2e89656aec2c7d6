"""Turns the worker's raw account of a job into a verdict.

The worker reports facts it observed from outside the job (timed out, OOM-killed, exit status)
and the events that pytest's own hooks emitted through a private channel. A job passes only
when that account shows a finished session in which at least one test was collected, every
collected test ran and passed, and nothing failed to collect; in script mode, only when the
program ran to its last statement; in trusted mode, only when the judge program, in a process
the candidate cannot reach, ran to its end. The exit status and anything printed never decide.
"""

from __future__ import annotations

from typing import Any

from sandbox.events import malformed
from sandbox.models import CoverageReport, Job, Result, Status, TestOutcome

PYTEST_ABORTED = {2: "interrupted", 3: "internal error", 4: "usage error"}


def classify(
    job: Job, raw: dict[str, Any], timeout_s: float, output_limit: int, checked: bool = False
) -> Result:
    """Builds the :class:`Result` for ``job`` from the worker's reply ``raw`` (``checked``:
    its events were validated already, as part of a batch's)."""
    problem = "" if checked else malformed(raw.get("events", []))
    if problem:  # the job's own process wrote it: the job's error, never a crash of ours
        return Result(
            id=job.id,
            status=Status.ERROR,
            passed=False,
            error=f"the job's report is malformed ({problem}); no verdict can rest on it",
            stdout=raw.get("stdout", ""),
            stderr=raw.get("stderr", ""),
            duration_s=raw.get("duration_s", 0.0),
        )
    if job.variants:
        return _classify_with_variants(job, raw, timeout_s, output_limit)
    events: list[dict[str, Any]] = raw.get("events", [])
    kinds = {event.get("event") for event in events}
    tests = _fold_tests(events) if job.mode in ("pytest", "trusted") else []
    status, error = _decide(job, raw, events, kinds, tests, timeout_s)
    n_passed = sum(1 for test in tests if test.outcome == "passed")
    return Result(
        id=job.id,
        status=status,
        passed=status == Status.PASSED,
        tests=tests,
        n_tests=len(tests),
        n_passed=n_passed,
        error=error,
        stdout=raw.get("stdout", ""),
        stderr=raw.get("stderr", ""),
        stdout_truncated=raw.get("stdout_bytes", 0) > output_limit,
        stderr_truncated=raw.get("stderr_bytes", 0) > output_limit,
        duration_s=raw.get("duration_s", 0.0),
        exit_code=raw.get("exit_code"),
        signal=raw.get("signal"),
        coverage=_coverage(events, status) if job.coverage and job.mode == "pytest" else None,
        limit=_limit(raw, status),
        cpu_s=round(float(raw.get("cpu_s") or 0.0), 4),
        data=_reported(events) if job.mode == "trusted" else {},
    )


def classify_batch(
    job: Job, raw: dict[str, Any], timeout_s: float, output_limit: int
) -> list[Result | None]:
    """One verdict per candidate of a batched job (the job's own first), from its own events;
    ``None`` for a candidate the batch did not settle (``sample_end``), which must run again
    in a job of its own. A report that is malformed or was written to by anything but the
    judge settles nothing."""
    singles = job.singles()
    events: list[dict[str, Any]] = raw.get("events", [])
    if raw.get("events_tampered") or malformed(events):
        return [None] * len(singles)
    by_sample: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        if event.get("sample") is not None:
            by_sample.setdefault(event["sample"], []).append(event)
    results: list[Result | None] = []
    for index, single in enumerate(singles):
        mine = by_sample.get(index, [])
        end = _first(mine, "sample_end")
        if end is None or not end.get("settled"):
            results.append(None)
            continue
        one = {
            "events": [event for event in mine if event.get("event") != "sample_end"],
            "timed_out": end.get("limit") is not None,
            "limit": end.get("limit"),
            "cpu_s": end.get("cpu_s", 0.0),
            "cpu_timeout_s": end.get("cpu_budget_s"),
            "duration_s": end.get("duration_s", 0.0),
            "oom_killed": False,
        }
        results.append(classify(single, one, timeout_s, output_limit, checked=True))
    return results


def _reported(events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the judge program reported (``judge.report``), the last value of each key; only the
    judge holds the token, and the judge bounds the keys and the values' size."""
    return {
        str(event.get("key")): event.get("value")
        for event in events
        if event.get("event") == "report"
    }


def _limit(raw: dict[str, Any], status: Status) -> str | None:
    """Which limit ended the job: the worker says which clock ran out; memory from the OOM."""
    if status == Status.OOM:
        return "memory"
    if status == Status.TIMEOUT:
        return "cpu" if raw.get("limit") == "cpu" else "wall"
    return None


def _classify_with_variants(
    job: Job, raw: dict[str, Any], timeout_s: float, output_limit: int
) -> Result:
    """The job's own verdict from its own solution's events, and one result per variant.

    The worker's limits are the whole job's: once the job's own solution completed, a limit
    reached later stopped the variant that was running, which gets it as its own verdict.
    """
    events: list[dict[str, Any]] = raw.get("events", [])
    own = [event for event in events if "variant" not in event]
    by_variant: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        if "variant" in event:
            by_variant.setdefault(str(event["variant"]), []).append(event)
    completed = any(event.get("event") == "completed" for event in own)
    own_raw = dict(raw, events=own)
    if completed:
        own_raw.update(timed_out=False, oom_killed=False, limit=None)
    plain = job.model_copy(update={"variants": []})
    result = classify(plain, own_raw, timeout_s, output_limit)
    # The job's own solution's CPU time (what the variants' budgets derive from), else the job's.
    own_end = _first(own, "baseline_end") or raw
    result.cpu_s = round(float(own_end.get("cpu_s") or 0.0), 4)
    for variant in job.variants:
        mine = by_variant.get(variant.id, [])
        kinds = {event.get("event") for event in mine}
        if "variant_skipped" in kinds:
            result.skipped_variants.append(variant.id)
            continue
        if "variant_start" not in kinds:
            continue
        end = _first(mine, "variant_end") or {}
        variant_raw = {
            "events": [e for e in mine if e.get("event") not in ("variant_start", "variant_end")],
            "timed_out": end.get("limit") in ("cpu", "wall"),
            "limit": end.get("limit"),
            "cpu_s": end.get("cpu_s", 0.0),
            "duration_s": end.get("duration_s", 0.0),
            "exit_code": end.get("exit_code"),
            "signal": end.get("signal"),
            "oom_killed": False,
        }
        if not end:  # the job's own limit stopped it
            variant_raw.update(
                timed_out=raw.get("timed_out", False),
                limit=raw.get("limit"),
                oom_killed=raw.get("oom_killed", False),
            )
        budget = float(_first(mine, "variant_start").get("cpu_budget_s") or variant.cpu_timeout_s)
        limit_s = budget if variant_raw["limit"] == "cpu" else variant.timeout_s
        one = classify(
            Job(id=variant.id, solution=variant.solution, tests=job.tests),
            variant_raw,
            limit_s,
            output_limit,
        )
        one.cpu_budget_s = budget
        result.variants.append(one)
    return result


def _coverage(events: list[dict[str, Any]], status: Status) -> CoverageReport:
    """The coverage the job's process measured; a quality metric that never decides."""
    event = _first(events, "coverage")
    if event is None:
        return CoverageReport(error=f"no coverage was reported (the job ended as {status.value})")
    if event.get("error"):
        return CoverageReport(error=str(event["error"]))
    try:
        statements = int(event.get("statements", 0))
        missing = sorted({int(line) for line in event.get("missing_lines", [])})
        branches = int(event.get("branches", 0))
        return CoverageReport(
            lines_total=statements,
            lines_covered=max(0, statements - len(missing)),
            missing_lines=missing,
            branches_total=branches,
            branches_covered=max(0, branches - int(event.get("missing_branches", 0))),
            missing_branches=[(int(a), int(b)) for a, b in event.get("missing_arcs", [])],
        )
    except (TypeError, ValueError) as exc:
        return CoverageReport(error=f"malformed coverage report: {exc}")


def _decide(job, raw, events, kinds, tests, timeout_s) -> tuple[Status, str]:
    if raw.get("events_overflow"):
        limit = raw.get("events_limit_bytes") or 0
        return Status.ERROR, (
            f"the test session's report exceeded the {limit / 2**20:g} MiB limit of the "
            "sandbox's report channel (too many tests, very long test names or messages, or "
            "the job writing to the channel itself), so it was cut and no verdict can rest on it"
        )
    if raw.get("events_tampered"):
        return Status.ERROR, "the job wrote to the sandbox's private report channel"
    syntax = _first(events, "syntax_error")
    if syntax:
        return Status.SYNTAX_ERROR, f"syntax error in {syntax.get('file')}: {syntax.get('message')}"
    if raw.get("oom_killed") or _memory_error(events, tests):
        return Status.OOM, "the job ran out of memory and was killed"
    if raw.get("timed_out"):
        running = _running_test(events)
        where = f" while running {running}" if running else ""
        if raw.get("limit") == "cpu":
            budget = float(raw.get("cpu_timeout_s") or timeout_s)
            return Status.TIMEOUT, f"used up its {budget:g} s CPU-time budget{where}"
        return Status.TIMEOUT, f"exceeded the {timeout_s:g} s time limit{where}"
    if job.mode == "script":
        return _decide_script(raw, events, kinds)
    if job.mode == "trusted":
        return _decide_trusted(raw, events, kinds, tests)
    return _decide_pytest(raw, events, kinds, tests)


def _decide_trusted(raw, events, kinds, tests) -> tuple[Status, str]:
    """The judge program's own account: it ran to its end, and any pytest session it ran
    (``judge.run_pytest``) passed by the pytest rules. A call past its limit that the judge
    did not catch is the candidate's timeout."""
    exc = _first(events, "exception")
    if exc and exc.get("type") == "CallTimeout":
        return Status.TIMEOUT, exc.get("message") or "a call to the candidate exceeded its limit"
    if exc:
        status = Status.FAILED if exc.get("type") == "AssertionError" else Status.ERROR
        if _first(events, "session_finished") and status == Status.FAILED:
            # judge.run_pytest raised for a session that did not pass: its tests say more
            pytest_status, pytest_error = _decide_pytest(raw, events, kinds | {"completed"}, tests)
            if pytest_status != Status.PASSED:
                return pytest_status, pytest_error
        return status, exc.get("message") or exc.get("type", "exception")
    if "completed" not in kinds:
        return Status.ERROR, "the judge ended before reaching its end" + _how_it_ended(raw)
    if tests or _first(events, "session_finished") or _first(events, "collect_error"):
        return _decide_pytest(raw, events, kinds, tests)
    return Status.PASSED, ""


def _decide_script(raw, events, kinds) -> tuple[Status, str]:
    exc = _first(events, "exception")
    if exc:
        status = Status.FAILED if exc.get("type") == "AssertionError" else Status.ERROR
        return status, exc.get("message") or exc.get("type", "exception")
    if "completed" in kinds:
        return Status.PASSED, ""
    return Status.ERROR, "the program ended before reaching its end" + _how_it_ended(raw)


def _decide_pytest(raw, events, kinds, tests) -> tuple[Status, str]:
    collect_errors = [event for event in events if event.get("event") == "collect_error"]
    finished = _first(events, "session_finished")
    if collect_errors:
        first = collect_errors[0]
        return Status.ERROR, f"collection failed in {first.get('name')}: {first.get('message')}"
    if not finished or "completed" not in kinds:
        return Status.ERROR, "the test process ended before the session finished" + _how_it_ended(
            raw
        )
    if finished.get("exitstatus") in PYTEST_ABORTED:
        return Status.ERROR, (
            f"pytest stopped abnormally (exit status {finished.get('exitstatus')}: "
            f"{PYTEST_ABORTED[finished.get('exitstatus')]}); the end of stdout says why"
        )
    if not tests:
        return Status.FAILED, "no tests were collected"
    failed = [test for test in tests if test.outcome == "failed"]
    errors = [test for test in tests if test.outcome == "error"]
    skipped = [test for test in tests if test.outcome == "skipped"]
    if failed:
        return Status.FAILED, f"{len(failed)} of {len(tests)} tests failed: " + _names(failed)
    if errors:
        return Status.ERROR, f"{len(errors)} of {len(tests)} tests errored: " + _names(errors)
    if skipped:
        return Status.FAILED, f"{len(skipped)} tests were skipped; every test must run and pass"
    if finished.get("collected") != len(tests) or finished.get("exitstatus") != 0:
        return Status.ERROR, (
            f"pytest collected {finished.get('collected')} tests but {len(tests)} reported"
            f" (exit status {finished.get('exitstatus')})"
        )
    return Status.PASSED, ""


def _fold_tests(events: list[dict[str, Any]]) -> list[TestOutcome]:
    """Folds setup/call/teardown reports into one outcome per test, in run order."""
    folded: dict[str, TestOutcome] = {}
    for event in events:
        if event.get("event") == "collect_error":
            name = event.get("name") or "<collection>"
            folded[name] = TestOutcome(
                name=name,
                outcome="error",
                message=event.get("message", ""),
                traceback=event.get("traceback", ""),
            )
            continue
        if event.get("event") != "test_phase":
            continue
        name, phase, outcome = event["name"], event.get("phase"), event.get("outcome")
        current = folded.get(name) or TestOutcome(name=name, outcome="passed")
        current.duration_s += float(event.get("duration") or 0.0)
        if outcome == "failed":
            if current.outcome not in ("failed", "error"):
                current.outcome = "failed" if phase == "call" else "error"
                current.message = event.get("message", "")
                current.traceback = event.get("traceback", "")
        elif outcome == "skipped" and current.outcome == "passed":
            current.outcome = "skipped"
            current.message = "xfail" if event.get("xfail") else event.get("message", "")
        elif phase == "call" and outcome == "passed" and event.get("xfail"):
            current.outcome = "failed"
            current.message = "xpass: test marked xfail passed"
        folded[name] = current
    started = {event["name"] for event in events if event.get("event") == "test_start"}
    called = {
        e["name"] for e in events if e.get("event") == "test_phase" and e.get("phase") == "call"
    }
    for name, test in folded.items():
        if name in started and name not in called and test.outcome == "passed":
            test.outcome = "error"
            test.message = "the test never reached its call phase"
    return list(folded.values())


def _memory_error(events, tests) -> bool:
    exc = _first(events, "exception")
    if exc and exc.get("type") == "MemoryError":
        return True
    return any(test.message.startswith("MemoryError") for test in tests)


def _running_test(events) -> str | None:
    finished = {
        e["name"] for e in events if e.get("event") == "test_phase" and e.get("phase") == "teardown"
    }
    running = [
        e["name"] for e in events if e.get("event") == "test_start" and e["name"] not in finished
    ]
    return running[-1] if running else None


def _how_it_ended(raw) -> str:
    if raw.get("signal") is not None:
        return f" (killed by signal {raw['signal']})"
    if raw.get("exit_code") is not None:
        return f" (it exited with status {raw['exit_code']})"
    return ""


def _first(events, kind: str) -> dict[str, Any] | None:
    return next((event for event in events if event.get("event") == kind), None)


def _names(tests: list[TestOutcome], most: int = 5) -> str:
    names = [test.name.split("::")[-1] for test in tests[:most]]
    return ", ".join(names) + (", ..." if len(tests) > most else "")
