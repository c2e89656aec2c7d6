"""Hostile jobs: crashing the interpreter or the compiler. Each must end with the right verdict within its time limit plus a
small slack, after which the same pool still tells right from wrong and the container is clean."""

from __future__ import annotations

import pytest

from sandbox import Job, Status
from tests.sandbox.helpers import (
    ADD,
    ADD_TESTS,
    script_job,
)
from tests.sandbox.hostile.common import (
    Case,
    check_case,
    code,
)

pytestmark = pytest.mark.docker

CASES = [
    Case(
        Job(
            id="infinite-recursion",
            solution="def add(a, b):\n    return add(a, b)\n",
            tests=ADD_TESTS,
        ),
        (Status.FAILED,),
    ),
    Case(
        script_job(
            "c-stack-overflow-segfaults-the-job",
            code(
                """
                import sys
                sys.setrecursionlimit(10**8)
                nested = []
                for _ in range(2_000_000):
                    nested = [nested]
                repr(nested)
                """
            ),
        ),
        (Status.ERROR,),
    ),
    Case(
        # Python frames live on the heap: unbounded recursion ends as a memory bomb.
        script_job(
            "unbounded-python-recursion",
            "import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1) + 1\nf(0)\n",
        ),
        (Status.OOM,),
    ),
    Case(
        Job(
            id="deeply-nested-expression",
            solution="x = " + "(" * 200_000 + ")" * 200_000 + "\n" + ADD,
            tests=ADD_TESTS,
        ),
        (Status.SYNTAX_ERROR,),
    ),
    Case(
        Job(
            id="deeply-nested-unary",
            solution="x = " + "-" * 2_000_000 + "1\n" + ADD,
            tests=ADD_TESTS,
        ),
        (Status.SYNTAX_ERROR,),
    ),
    Case(
        script_job("eval-of-a-deep-expression", "eval('[' * 500_000 + ']' * 500_000)\n"),
        (Status.ERROR,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.job.id for case in CASES])
def test_hostile_job(hostile_pool, case):
    check_case(hostile_pool, case)
