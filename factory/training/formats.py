"""The rows a trainer reads, one shape per consumer, built from a codefactory row.

- ``sft``: TRL's conversational format, ``messages`` = a user turn (the problem as our prompts
  present it: statement, signature, module) and an assistant turn (the solution, fenced; with
  ``with_tests`` the tests too, as a second file), plus ``id``.
- ``rl``: TRL's prompt-only format, ``prompt`` = the user turn, and open-r1's
  ``verification_info`` (``language``, ``entry_point``, ``test_code``, ``test_mode``), which
  :class:`factory.training.reward.SandboxReward` reads, plus ``id`` and the difficulty fields.
- ``verl``: the columns verl's RLHF dataset and reward manager read: ``data_source``,
  ``prompt``, ``ability``, ``reward_model`` {``style``: ``rule``, ``ground_truth``: the
  verification info as a JSON string}, ``extra_info``.

Each format has one explicit ``Features``, so a Parquet file, a JSONL file and a saved dataset
carry the same schema (a pass rate that is None everywhere is still a float column).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from datasets import Features, List, Value

from factory.evaluate.benchmarks.dataset import row_prompt
from factory.records import ProblemRecord
from factory.training.labels import RowLabel

Format = Literal["sft", "rl", "verl"]
FORMATS: tuple[Format, ...] = ("sft", "rl", "verl")
TEST_MODE = "pytest"  # the tests import the entry point from solution.py

_MESSAGES = List({"role": Value("string"), "content": Value("string")})
_DIFFICULTY = {
    "difficulty": Value("string"),  # the generator's stated difficulty (the plan's)
    "topic": Value("string"),
    "pass_rate": Value("float64"),  # the solver's, from `codefactory label`; None if unlabelled
    "label_difficulty": Value("string"),  # easy / medium / hard from the pass rate
    "solver": Value("string"),
}
_VERIFICATION = {
    "language": Value("string"),
    "entry_point": Value("string"),
    "test_code": Value("string"),
    "test_mode": Value("string"),
}
FEATURES: dict[Format, Features] = {
    "sft": Features({"id": Value("string"), "messages": _MESSAGES}),
    "rl": Features(
        {
            "id": Value("string"),
            "prompt": _MESSAGES,
            "verification_info": _VERIFICATION,
            **_DIFFICULTY,
        }
    ),
    "verl": Features(
        {
            "data_source": Value("string"),
            "prompt": _MESSAGES,
            "ability": Value("string"),
            "reward_model": {"style": Value("string"), "ground_truth": Value("string")},
            "extra_info": {"index": Value("int64"), "id": Value("string"), **_DIFFICULTY},
        }
    ),
}


def user_turn(row: ProblemRecord) -> dict[str, str]:
    return {"role": "user", "content": row_prompt(row.model_dump())}


def assistant_turn(row: ProblemRecord, with_tests: bool = False) -> dict[str, str]:
    solution = row.solution.strip("\n")
    if not with_tests:
        return {"role": "assistant", "content": f"```python\n{solution}\n```"}
    tests = row.tests.strip("\n")
    content = (
        f"`solution.py`:\n\n```python\n{solution}\n```\n\n"
        f"`test_solution.py`:\n\n```python\n{tests}\n```"
    )
    return {"role": "assistant", "content": content}


def verification_info(row: ProblemRecord) -> dict[str, str]:
    return {
        "language": "python",
        "entry_point": row.entry_point,
        "test_code": row.tests,
        "test_mode": TEST_MODE,
    }


def _difficulty(row: ProblemRecord, label: RowLabel | None) -> dict[str, Any]:
    return {
        "difficulty": row.difficulty.value,
        "topic": row.topic,
        "pass_rate": label.pass_rate if label else None,
        "label_difficulty": label.difficulty if label else None,
        "solver": label.solver if label else None,
    }


def training_row(
    fmt: Format,
    row: ProblemRecord,
    label: RowLabel | None,
    *,
    index: int,
    data_source: str,
    with_tests: bool = False,
) -> dict[str, Any]:
    """One exported row of format ``fmt`` (``index``: its position in the export)."""
    if fmt == "sft":
        return {"id": row.id, "messages": [user_turn(row), assistant_turn(row, with_tests)]}
    if fmt == "rl":
        return {
            "id": row.id,
            "prompt": [user_turn(row)],
            "verification_info": verification_info(row),
            **_difficulty(row, label),
        }
    return {
        "data_source": data_source,
        "prompt": [user_turn(row)],
        "ability": "code",
        "reward_model": {"style": "rule", "ground_truth": json.dumps(verification_info(row))},
        "extra_info": {"index": index, "id": row.id, **_difficulty(row, label)},
    }
