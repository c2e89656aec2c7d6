"""The live display: counters on a terminal, periodic lines in a log file."""

from __future__ import annotations

import io
import time

from rich.console import Console

from factory.llm import ClientStats
from factory.pipeline.progress import LiveDisplay, RunCounters


def test_a_log_file_gets_periodic_status_lines_that_fit_80_columns():
    log = io.StringIO()
    counters = RunCounters(target=10, done_before=2)
    stats = ClientStats(requests=7, retries=1, prompt_tokens=1500, completion_tokens=700)
    with LiveDisplay(counters, stats, Console(file=log, width=80), log_every_s=0.05):
        counters.accepted, counters.failed, counters.in_repair = 3, 1, 2
        time.sleep(0.3)
    text = log.getvalue()
    assert text.count("6/10") >= 2  # printed more than once, not only at the end
    assert "accepted 3" in text and "failed 1" in text and "in repair 2" in text
    assert "tokens 2.2k" in text and "retries 1" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_the_rate_counts_the_loop_and_stops_when_it_ends():
    counters = RunCounters(target=10, started=100.0)
    counters.accepted = 6
    counters.stopped = 130.0  # the export and teardown after the loop do not dilute the rate
    time.sleep(0.05)
    assert counters.elapsed_s == 30.0
    assert counters.per_minute() == 12.0
    assert counters.as_dict()["elapsed_s"] == 30.0
