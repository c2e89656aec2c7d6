"""Synthetic dataset rows for ``minhash_bench.py``, with duplicates planted at known rates.

Each original row is a problem statement (two to five sentences from a dozen templates over a
programming vocabulary, so unrelated statements share common phrases as real ones do) and a
solution (a function of 5 to 14 statements: assignments, loops, branches, appends, built-in
calls, constants). A planted row copies an earlier original:

- ``exact``: the same program with other names, a comment and other layout, the statement with
  other case and punctuation: equal after normalisation, so its shingles equal the source's;
- ``near``: one to four edits (a word of the statement replaced, a constant or an operator of
  the solution changed, a statement added): true Jaccard similarity from about 0.6 to 0.99.

Everything is drawn from ``random.Random(seed)``: the same seed gives the same rows.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

NOUNS = [
    "integer",
    "number",
    "string",
    "word",
    "character",
    "list",
    "array",
    "matrix",
    "row",
    "column",
    "interval",
    "point",
    "edge",
    "node",
    "tree",
    "graph",
    "path",
    "key",
    "value",
    "pair",
    "record",
    "item",
    "element",
    "digit",
    "prefix",
    "suffix",
    "window",
    "segment",
    "score",
    "price",
    "order",
    "event",
    "task",
    "file",
    "line",
    "token",
    "bracket",
    "vowel",
    "letter",
    "sentence",
]
ADJECTIVES = [
    "largest",
    "smallest",
    "longest",
    "shortest",
    "first",
    "last",
    "sorted",
    "unique",
    "distinct",
    "even",
    "odd",
    "positive",
    "negative",
    "total",
    "maximal",
    "minimal",
    "consecutive",
    "adjacent",
    "repeated",
    "balanced",
    "valid",
    "empty",
]
VERBS = [
    "return",
    "count",
    "find",
    "compute",
    "merge",
    "sort",
    "reverse",
    "remove",
    "keep",
    "group",
    "split",
    "encode",
]
SENTENCES = (
    "Given a list of {n1}s, {v} the {a} {n2}.",
    "Write a function that takes a {n1} and returns the {a} {n2} it contains.",
    "{V} every {n1} whose {n2} is {a}, in the order they appear.",
    "If the {n1} is empty, return {k}.",
    "Two {n1}s are {a} when their {n2}s differ by at most {k}.",
    "The input has at most {k} {n1}s and each {n2} fits in a machine word.",
    "Return the number of {a} {n1}s in the {n2}.",
    "Ignore any {n1} that is not {a}; the result must keep the original {n2}.",
    "A {n1} is {a} if no {n2} appears in it more than {k} times.",
    "{V} the {n1}s by their {n2}, breaking ties by position.",
    "Raise ValueError when a {n1} is negative or the {n2} is missing.",
    "For example, a {n1} of length {k} has exactly one {a} {n2}.",
)
NAMES = [
    "items",
    "total",
    "count",
    "value",
    "result",
    "acc",
    "idx",
    "left",
    "right",
    "low",
    "high",
    "best",
    "current",
    "seen",
    "out",
    "buffer",
    "pos",
    "size",
    "step",
    "head",
    "tail",
    "parts",
    "width",
    "depth",
    "level",
    "score",
    "chunk",
]
OTHER_NAMES = [
    "xs",
    "s",
    "n",
    "x",
    "r",
    "a",
    "i",
    "lo",
    "hi",
    "b",
    "cur",
    "vis",
    "res",
    "buf",
    "p",
    "sz",
    "st",
    "h",
    "t",
    "ps",
    "w",
    "d",
    "lv",
    "sc",
    "ch",
    "q",
    "z",
]
OPERATORS = ("+", "-", "*", "//", "%")
CALLS = ("len", "abs", "min", "max", "sum", "sorted", "str", "int")
CONSTANT = re.compile(r"(?<![v\d])\d+")


@dataclass(frozen=True)
class Row:
    id: str
    description: str
    solution: str
    kind: str  # "original", "exact" or "near"
    source: str | None  # the original a planted row copies


@dataclass
class _Program:
    """A solution as lines holding ``{vN}`` slots, so it can be rendered with other names."""

    lines: list[str]
    slots: int

    def render(self, names: list[str], comment: str = "") -> str:
        values = {
            f"v{i}": names[i % len(names)] + (str(i // len(names)) if i >= len(names) else "")
            for i in range(self.slots)
        }
        body = [line.format(**values) for line in self.lines]
        if comment:
            body.insert(1, f"    # {comment}")
        return "\n".join(body) + "\n"


def generate(count: int, seed: int, exact_rate: float, near_rate: float) -> list[Row]:
    rng = random.Random(seed)
    rows: list[Row] = []
    originals: list[tuple[Row, _Program, list[str]]] = []
    for index in range(count):
        row_id = f"r{index:06d}"
        draw = rng.random()
        if originals and draw < exact_rate:
            source, program, statement = rng.choice(originals)
            rows.append(_exact_copy(rng, row_id, source, program, statement))
        elif originals and draw < exact_rate + near_rate:
            source, program, statement = rng.choice(originals)
            rows.append(_near_copy(rng, row_id, source, program, statement))
        else:
            statement = _statement(rng)
            program = _program(rng)
            names = rng.sample(NAMES, len(NAMES))
            row = Row(row_id, " ".join(statement), program.render(names), "original", None)
            rows.append(row)
            originals.append((row, program, statement))
    return rows


def _statement(rng: random.Random) -> list[str]:
    sentences = []
    for template in rng.sample(SENTENCES, rng.randint(2, 5)):
        verb = rng.choice(VERBS)
        sentences.append(
            template.format(
                n1=rng.choice(NOUNS),
                n2=rng.choice(NOUNS),
                a=rng.choice(ADJECTIVES),
                v=verb,
                V=verb.capitalize(),
                k=rng.randint(0, 99),
            )
        )
    return " ".join(sentences).split(" ")


def _program(rng: random.Random) -> _Program:
    params = rng.randint(1, 3)
    lines = [f"def {{v{params}}}({', '.join(f'{{v{i}}}' for i in range(params))}):"]
    state = {"defined": list(range(params)), "next": params + 1}
    for _ in range(rng.randint(5, 14)):
        lines += _statement_lines(rng, state, depth=1)
    lines.append(f"    return {_expression(rng, state)}")
    return _Program(lines, state["next"])


def _statement_lines(rng: random.Random, state: dict, depth: int) -> list[str]:
    pad = "    " * depth
    kind = rng.random()
    if depth < 3 and kind < 0.2:
        target = _new_name(state)
        body = [f"{pad}for {{v{target}}} in {_iterable(rng, state)}:"]
        state["defined"].append(target)
        for _ in range(rng.randint(1, 3)):
            body += _statement_lines(rng, state, depth + 1)
        return body
    if depth < 3 and kind < 0.4:
        body = [
            f"{pad}if {_expression(rng, state)} {rng.choice(('<', '>', '==', '!='))} {rng.randint(0, 20)}:"
        ]
        for _ in range(rng.randint(1, 2)):
            body += _statement_lines(rng, state, depth + 1)
        if rng.random() < 0.4:
            body.append(f"{pad}else:")
            body += _statement_lines(rng, state, depth + 1)
        return body
    if kind < 0.55:
        target = rng.choice(state["defined"])
        return [f"{pad}{{v{target}}} {rng.choice(OPERATORS)}= {_expression(rng, state)}"]
    if kind < 0.65:
        target = _new_name(state)
        state["defined"].append(target)
        return [f"{pad}{{v{target}}} = []", f"{pad}{{v{target}}}.append({_expression(rng, state)})"]
    target = _new_name(state)
    line = f"{pad}{{v{target}}} = {_expression(rng, state)}"
    state["defined"].append(target)
    return [line]


def _expression(rng: random.Random, state: dict) -> str:
    def atom() -> str:
        if rng.random() < 0.35:
            return str(rng.randint(0, 20))
        return f"{{v{rng.choice(state['defined'])}}}"

    shape = rng.random()
    if shape < 0.3:
        return f"{atom()} {rng.choice(OPERATORS)} {atom()}"
    if shape < 0.5:
        return f"{rng.choice(CALLS)}({atom()})"
    if shape < 0.6:
        return f"{atom()}[{rng.randint(0, 5)}]"
    if shape < 0.75:
        return f"{rng.choice(CALLS)}({atom()}) {rng.choice(OPERATORS)} {atom()}"
    return atom()


def _iterable(rng: random.Random, state: dict) -> str:
    if rng.random() < 0.5:
        return f"range({rng.randint(1, 50)})"
    return f"{{v{rng.choice(state['defined'])}}}"


def _new_name(state: dict) -> int:
    state["next"] += 1
    return state["next"] - 1


def _exact_copy(
    rng: random.Random, row_id: str, source: Row, program: _Program, statement: list[str]
) -> Row:
    names = rng.sample(OTHER_NAMES, len(OTHER_NAMES))
    text = " ".join(statement)
    text = text.upper() if rng.random() < 0.5 else text.replace(",", ";").replace(".", "!")
    solution = program.render(names, comment="same as before, other names")
    return Row(row_id, text, solution.replace(" = ", "=").replace(", ", ","), "exact", source.id)


def _near_copy(
    rng: random.Random, row_id: str, source: Row, program: _Program, statement: list[str]
) -> Row:
    words = list(statement)
    lines = list(program.lines)
    for _ in range(rng.randint(1, 10)):
        edit = rng.random()
        if edit < 0.4:
            words[rng.randrange(len(words))] = rng.choice(NOUNS + ADJECTIVES)
        elif edit < 0.8:
            at = rng.randrange(1, len(lines))
            lines[at] = _edit_line(rng, lines[at])
        else:
            at = rng.randrange(1, len(lines))
            indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())] or "    "
            if lines[at].rstrip().endswith(":"):
                indent += "    "
            lines.insert(
                at + 1, f"{indent}{{v0}} = {{v0}} {rng.choice(OPERATORS)} {rng.randint(1, 9)}"
            )
    solution = _Program(lines, program.slots).render(NAMES)
    return Row(row_id, " ".join(words), solution, "near", source.id)


def _edit_line(rng: random.Random, line: str) -> str:
    numbers = list(CONSTANT.finditer(line))
    if numbers and rng.random() < 0.6:
        number = rng.choice(numbers)
        new = str(int(number.group()) + rng.randint(1, 9))
        return line[: number.start()] + new + line[number.end() :]
    for old in OPERATORS:
        if f" {old} " in line:
            return line.replace(
                f" {old} ", f" {rng.choice([o for o in OPERATORS if o != old])} ", 1
            )
    return line  # nothing to change here: this edit is lost
