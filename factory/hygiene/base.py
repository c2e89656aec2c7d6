"""What the hygiene filters look at, and what they answer.

A filter sees a :class:`Candidate`: the few fields of a row that say what the problem is and
how it is solved. :meth:`Candidate.of` reads them from a dataset record, a dict or any object
with those attributes, so the filters do not depend on the record's other fields.

A filter answers with a :class:`Verdict`: keep, or drop with a reason (a counter name the run
reports) and what the row matched (another row's id, or ``benchmark:task_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class DropReason(StrEnum):
    EXACT_DUPLICATE = "exact_duplicate"
    NEAR_DUPLICATE = "near_duplicate"
    BENCHMARK_DESCRIPTION = "benchmark_description_overlap"
    BENCHMARK_CODE = "benchmark_code_overlap"
    BENCHMARK_NORMALISED_CODE = "benchmark_normalised_code"

    @property
    def stage(self) -> str:
        """``dedup`` or ``decontamination``: the funnel step that drops for this reason."""
        return "dedup" if self.value.endswith("duplicate") else "decontamination"


@dataclass(frozen=True)
class Candidate:
    id: str
    description: str
    solution: str
    title: str = ""
    entry_point: str = ""

    @classmethod
    def of(cls, row: Any) -> Candidate:
        if isinstance(row, Candidate):
            return row

        def field(name: str) -> str:
            value = row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)
            return "" if value is None else str(value)

        return cls(
            id=field("id"),
            description=field("description"),
            solution=field("solution"),
            title=field("title"),
            entry_point=field("entry_point"),
        )


@dataclass(frozen=True)
class Verdict:
    kept: bool
    reason: DropReason | None = None
    matched: str | None = None
    detail: str = ""

    @classmethod
    def drop(cls, reason: DropReason, matched: str, detail: str = "") -> Verdict:
        return cls(kept=False, reason=reason, matched=matched, detail=detail)

    def __str__(self) -> str:
        if self.kept:
            return "keep"
        return f"drop ({self.reason}: {self.matched}{'; ' + self.detail if self.detail else ''})"


KEEP = Verdict(kept=True)
