"""HumanEval+ and MBPP+ (EvalPlus): many more inputs per task, judged against the reference.

EvalPlus's releases (bundled in ``data/``, Apache-2.0, see ``data/NOTICE.md``; ``--data`` reads
another version, gzipped or not) give each task its ``base_input`` (the original benchmark's
test inputs) and ``plus_input`` (the extra ones), a reference ``canonical_solution`` and an
``atol``. There are no expected outputs in them: they come from running the reference on every
input in the sandbox (:mod:`evalplus_expected`, cached), which also times each input to set its
limit, max(4 s, 4x the reference's time), EvalPlus's current rule.

A sample runs as one sandbox job whose judge program (:mod:`evalplus_programs`) calls the
sample's function on the base inputs, then on the plus inputs, and stops at the first wrong
output, as EvalPlus's default fast check does; outputs are compared by
:mod:`evalplus_rules`. Everything specific to a task is data: the task's ``atol``, its input
conversion (:mod:`evalplus_inputs`) and its special oracle (:data:`HUMANEVAL_ORACLES`,
:data:`MBPP_ORACLES`, keyed by entry point as EvalPlus keys them).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from factory.errors import InputFileError
from factory.evaluate.benchmarks.base import SYSTEM_PROMPT, Benchmark, Task
from factory.evaluate.benchmarks.evalplus_inputs import mbpp_plus_inputs
from factory.evaluate.benchmarks.humaneval import HumanEval
from factory.evaluate.benchmarks.mbpp import mbpp_task_id

REQUIRED_FIELDS = ("task_id", "prompt", "entry_point", "canonical_solution", "base_input")
REQUIRED_FIELDS += ("plus_input", "atol")

HUMANEVAL_ORACLES = {"find_zero": "poly_root"}
"""HumanEval/32: any x where the prompt's ``poly`` is within atol of 0 is a root."""

MBPP_ORACLES = {
    "are_equivalent": "always",
    "sum_div": "zero_ok",
    "surface_Area": "surface_area",
    "digit_distance_nums": "digit_distance",
    **dict.fromkeys(("check_str", "text_match_three", "text_starta_endb"), "not_none"),
    **dict.fromkeys(
        (
            "similar_elements",
            "find_char_long",
            "common_in_nested_lists",
            "extract_singly",
            "larg_nnum",
            "intersection_array",
            "find_dissimilar",
            "Diff",
        ),
        "set_eq",
    ),
}
"""MBPP+'s special oracles (EvalPlus's ``_special_oracle.py``): set equality for tasks whose
order is free, "not None" for tasks whose reference returns a ``re.Match``, and four custom ones."""


@dataclass(frozen=True)
class PlusTask:
    """What judging a sample of one task needs beyond :class:`Task` (inputs are not copied)."""

    task_id: str
    entry_point: str
    atol: float
    oracle: str | None
    base_input: list[Any]
    plus_input: list[Any]
    helpers: str = ""
    """Source the judge runs for the oracle's helpers (HumanEval/32's prompt, for ``poly``)."""


class EvalPlusBenchmark(Benchmark):
    """Shared by HumanEval+ and MBPP+: the data file, its hash, the per-task judging data."""

    family: ClassVar[str]
    bundled: ClassVar[str]
    oracles: ClassVar[dict[str, str]]

    packs_across_tasks = False  # each task's limits are its own (from its reference's times)
    pack_cost_s = 0.25
    """Seconds of reference time (``task_cost``) in one job at most: the seven costly HumanEval+
    tasks (0.1 s to 4 s) keep jobs of their own; the others, a few milliseconds each, go about
    ten to a job, which saves each sample a job's fork, exit and clean-up (7 ms measured)."""
    inputs_as_stored = True
    """Whether :meth:`inputs` keeps the inputs as the data file's JSON gave them (no tuples,
    sets or other values JSON cannot say), so json can write them back as they are."""

    def __init__(self, tasks: list[Task], plus: dict[str, PlusTask], source: str, digest: str):
        super().__init__(tasks)
        self.plus = plus
        self.source = source
        self.data_sha256 = digest
        self.expected: Any = None  # set by prepare(): evalplus_expected.ExpectedOutputs
        self.cache_dir: Path | None = None
        self.time_factor = 4.0
        self.judge_data: dict[tuple[str, float], tuple[str, float, bool]] = {}
        self.trusted_data: dict[tuple[str, float], str] = {}  # a trusted job's judge_data
        self.nonces: dict[str, str] = {}
        self.inputs_text: dict[str, str] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> EvalPlusBenchmark:
        raw, source = _read_bytes(path, cls.bundled)
        digest = hashlib.sha256(raw).hexdigest()
        records = _records(raw, source)
        tasks, plus = [], {}
        for index, record in enumerate(records):
            missing = [field for field in REQUIRED_FIELDS if field not in record]
            if missing:
                raise InputFileError(
                    f"{source}: task #{index + 1} lacks {missing}; expected an EvalPlus release "
                    f"({', '.join(REQUIRED_FIELDS)})"
                )
            task, extra = cls._task(record)
            tasks.append(task)
            plus[task.task_id] = extra
        if not tasks:
            raise InputFileError(f"{source}: no tasks in the file")
        return cls(tasks, plus, source, digest)

    @classmethod
    def _task(cls, record: dict) -> tuple[Task, PlusTask]:
        entry = record["entry_point"]
        for field in ("base_input", "plus_input"):
            if record[field] == {}:  # one MBPP+ task stores no plus inputs as {}
                record[field] = []
            if not isinstance(record[field], list):
                raise InputFileError(f"{record['task_id']}: {field} must be a list of inputs")
        if not isinstance(record["atol"], int | float) or isinstance(record["atol"], bool):
            raise InputFileError(f"{record['task_id']}: atol must be a number")
        oracle = cls.oracles.get(entry)
        task = Task(
            task_id=record["task_id"],
            prompt=record["prompt"],
            completion_prefix=record["prompt"],
            canonical_solution=record["prompt"] + record["canonical_solution"],
            tests="",
            entry_point=entry,
        )
        extra = PlusTask(
            task_id=record["task_id"],
            entry_point=entry,
            atol=float(record["atol"] or 0),
            oracle=oracle,
            base_input=cls.inputs(record["task_id"], record["base_input"]),
            plus_input=cls.inputs(record["task_id"], record["plus_input"]),
            helpers=record["prompt"] if oracle == "poly_root" else "",
        )
        return task, extra

    @classmethod
    def inputs(cls, task_id: str, stored: list) -> list:
        return stored

    async def prepare(self, pool_config, pool=None):
        """The expected outputs: from the cache, else computed in a pool of their own, or,
        given the evaluation's ``pool``, started there beside the samples (the runner waits
        for each task's; see :mod:`evalplus_references`)."""
        from factory.evaluate.benchmarks.evalplus_expected import load_cached
        from factory.evaluate.benchmarks.evalplus_references import ReferenceRuns, load_or_compute

        if pool is None:
            self.expected = await load_or_compute(self, pool_config)
            return None
        cached = load_cached(self, pool_config)
        if cached is not None:
            self.expected = cached
            return None
        return ReferenceRuns(self, pool, pool_config)

    def build_job(self, task: Task, solution: str, job_id: str, timeout_s: float):
        from factory.evaluate.benchmarks.evalplus_programs import judge_job

        return judge_job(self, task, solution, job_id, floor_s=timeout_s)

    def details(self, task: Task, result) -> dict[str, Any]:
        from factory.evaluate.benchmarks.evalplus_programs import read_report

        return read_report(result, self.nonces.pop(result.id, None))

    def task_cost(self, task_id: str) -> float | None:
        """The bundled hint (a whole reference run: calls, answers and digests), else the
        reference's calls as timed for the expected outputs."""
        from factory.evaluate.benchmarks.evalplus_expected import cost_hints

        hint = cost_hints(self.data_sha256).get(task_id)
        if hint is not None:
            return hint
        outputs = self.expected.outputs.get(task_id) if self.expected is not None else None
        if outputs is None:
            return None
        return sum(outputs["base_time"]) + sum(outputs["plus_time"])


class HumanEvalPlus(EvalPlusBenchmark):
    name = "humanevalplus"
    family = "humaneval"
    bundled = "HumanEvalPlus.jsonl.gz"
    oracles = HUMANEVAL_ORACLES

    messages = HumanEval.messages
    completion_from_code = HumanEval.completion_from_code


class MbppPlus(EvalPlusBenchmark):
    name = "mbppplus"
    family = "mbpp"
    bundled = "MbppPlus.jsonl.gz"
    oracles = MBPP_ORACLES

    inputs_as_stored = False  # tuples, sets, complex numbers: see evalplus_inputs

    @classmethod
    def inputs(cls, task_id: str, stored: list) -> list:
        return mbpp_plus_inputs(int(task_id.split("/")[1]), stored)

    def normalize_task_id(self, raw: Any) -> str | None:
        return mbpp_task_id(raw, self.tasks)

    def messages(self, task: Task) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {
                "role": "user",
                "content": "Solve the following task in Python. Answer with the whole program "
                f"in one ```python code block.\n\n{task.prompt.strip()}",
            },
        ]


def _read_bytes(path: Path | None, bundled: str) -> tuple[bytes, str]:
    if path is None:
        resource = resources.files("factory.evaluate.benchmarks") / "data" / bundled
        return resource.read_bytes(), f"bundled {bundled}"
    try:
        return path.read_bytes(), str(path)
    except FileNotFoundError:
        raise InputFileError(f"data file not found: {path}") from None
    except OSError as exc:
        raise InputFileError(f"cannot read data file {path}: {exc.strerror}") from None


def _records(raw: bytes, source: str) -> list[dict]:
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputFileError(f"{source}: not a readable gzip file ({exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{source}: not UTF-8 text ({exc.reason})") from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise InputFileError(f"{source}:{number}: invalid JSON ({exc})") from None
        if not isinstance(record, dict):
            raise InputFileError(f"{source}:{number}: expected one task object per line")
        records.append(record)
    return records
