"""Counters of a run and their live display on stderr."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from factory.records import Stage


@dataclass
class RunCounters:
    """Updated by the loop as problems move through it; read by the display and the report."""

    target: int
    done_before: int = 0  # problems finished by earlier runs on the same --out
    proposed: int = 0
    accepted: int = 0
    failed: int = 0
    dropped: int = 0  # accepted, then removed by dedup or decontamination
    abandoned: int = 0
    in_repair: int = 0
    repairs: int = 0
    sandbox_runs: int = 0
    reasks: Counter[str] = field(default_factory=Counter)
    gate_rejections: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    # Set when the loop ends, so rates count the loop, not the export and teardown after it.
    stopped: float | None = None

    @property
    def finished(self) -> int:
        """Problems finished in this run."""
        return self.accepted + self.failed + self.dropped

    @property
    def elapsed_s(self) -> float:
        """Seconds the loop has run (up to its end, once it ended)."""
        return (self.stopped if self.stopped is not None else time.monotonic()) - self.started

    def per_minute(self) -> float:
        elapsed = self.elapsed_s
        return self.finished * 60.0 / elapsed if elapsed > 0 else 0.0

    def on_reask(self, stage: Stage) -> None:
        self.reasks[stage.value] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "failed": self.failed,
            "dropped": self.dropped,
            "abandoned": self.abandoned,
            "proposed": self.proposed,
            "repairs": self.repairs,
            "sandbox_runs": self.sandbox_runs,
            "reasks": dict(self.reasks),
            "gate_rejections": dict(self.gate_rejections),
            "elapsed_s": round(self.elapsed_s, 3),
            "problems_per_min": round(self.per_minute(), 2),
        }


class LiveDisplay:
    """A progress bar and counters on stderr: redrawn four times a second on a terminal; when
    stderr is a file or a pipe (a batch job's log), printed every ``log_every_s`` seconds.

    ``llm_stats`` is the client's running totals (tokens, requests, retries).
    """

    def __init__(
        self, counters: RunCounters, llm_stats: Any, console: Any, log_every_s: float = 30.0
    ) -> None:
        self.counters = counters
        self.llm_stats = llm_stats
        self.console = console
        self.log_every_s = log_every_s
        self._live = None
        self._stop = threading.Event()
        self._logger: threading.Thread | None = None

    def __enter__(self) -> LiveDisplay:
        from rich.live import Live

        self._live = Live(
            get_renderable=self.render,
            console=self.console,
            refresh_per_second=4,
            transient=False,
        )
        self._live.__enter__()
        if not self.console.is_terminal:
            self._logger = threading.Thread(target=self._log, daemon=True, name="progress-log")
            self._logger.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._logger is not None:
            self._logger.join()
        if self._live is not None:
            self._live.__exit__(*exc_info)

    def _log(self) -> None:
        while not self._stop.wait(self.log_every_s):
            self.console.print(self.render())

    def render(self):
        """Three short lines, so nothing is cropped on an 80-column terminal."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        c, llm = self.counters, self.llm_stats
        done = c.done_before + c.finished
        elapsed = int(c.elapsed_s)
        tokens = llm.prompt_tokens + llm.completion_tokens
        head = Table.grid(padding=(0, 1))
        head.add_row(
            ProgressBar(total=max(c.target, 1), completed=min(done, c.target), width=30),
            Text.assemble(
                (f"{done}/{c.target}", "bold"),
                f"  {c.per_minute():.1f} problems/min  {elapsed // 60}:{elapsed % 60:02d}",
            ),
        )
        outcomes = Text.assemble(
            ("accepted ", "green"),
            f"{c.accepted}  ",
            ("failed ", "red"),
            f"{c.failed}  ",
            f"dropped {c.dropped}  " if c.dropped else "",
            f"abandoned {c.abandoned}  " if c.abandoned else "",
            f"proposed {c.proposed}  in repair {c.in_repair}",
        )
        usage = Text(
            f"LLM calls {llm.requests}  tokens {_short(tokens)}  "
            f"re-asks {sum(c.reasks.values())}  retries {llm.retries}  "
            f"sandbox runs {c.sandbox_runs}"
        )
        return Group(head, outcomes, usage)


def _short(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 1_000:
        return f"{n / 1_000:.1f}k"
    return str(n)
