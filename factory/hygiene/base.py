"""What the hygiene filters look at, and what they answer.

A filter sees a :class:`RowText`: the few fields of a row that say what the problem is and
how it is solved. :meth:`RowText.of` reads them from a dataset record, a dict or any object
with those attributes, so the filters do not depend on the record's other fields.

A filter answers None to keep the row, or a :class:`~factory.records.Drop`: why (a
:class:`~factory.records.DropReason`, a counter the run reports) and what the row matched
(another row's id, or ``benchmark:task_id``). The drop is stored on the row as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RowText:
    id: str
    description: str
    solution: str
    title: str = ""
    entry_point: str = ""

    @classmethod
    def of(cls, row: Any) -> RowText:
        if isinstance(row, RowText):
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
