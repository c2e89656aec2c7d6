"""Hostile jobs: pytest's own escape hatches. Each must end with the right verdict within its time limit plus a
small slack, after which the same pool still tells right from wrong and the container is clean."""

from __future__ import annotations

import pytest

from sandbox import Job, Status
from tests.sandbox.helpers import (
    ADD,
    ADD_TESTS,
    WRONG_ADD,
)
from tests.sandbox.hostile.common import (
    Case,
    check_case,
    code,
    wrong,
)

pytestmark = pytest.mark.docker

CASES = [
    Case(
        wrong("skips-every-test", tests_prefix="import pytest\npytestmark = pytest.mark.skip"),
        (Status.FAILED,),
        error_contains="skipped",
    ),
    Case(
        wrong(
            "skips-the-module",
            tests_prefix="import pytest\npytest.skip('later', allow_module_level=True)",
        ),
        (Status.FAILED,),
    ),
    Case(
        wrong(
            "solution-skips-the-module-at-import",
            "import pytest\npytest.skip('later', allow_module_level=True)",
        ),
        (Status.FAILED,),
    ),
    Case(
        wrong(
            "marks-every-test-xfail", tests_prefix="import pytest\npytestmark = pytest.mark.xfail"
        ),
        (Status.FAILED,),
    ),
    Case(
        Job(
            id="xfail-marked-tests-that-pass",
            solution=ADD,
            tests="import pytest\npytestmark = pytest.mark.xfail\n" + ADD_TESTS,
        ),
        (Status.FAILED,),
        error_contains="tests failed",
    ),
    Case(
        Job(
            id="calls-pytest-xfail",
            solution=WRONG_ADD,
            tests=code(
                """
                import pytest
                from solution import add
                def test_small():
                    if add(1, 2) != 3:
                        pytest.xfail("close enough")
                """
            ),
        ),
        (Status.FAILED,),
    ),
    Case(
        Job(id="zero-tests", solution=WRONG_ADD, tests="from solution import add\n"),
        (Status.FAILED,),
        error_contains="no tests were collected",
    ),
    Case(
        Job(
            id="tests-only-in-a-class-never-collected",
            solution=WRONG_ADD,
            tests=code(
                """
            from solution import add
            class Checks:
                def test_small(self):
                    assert add(1, 2) == 3
            """
            ),
        ),
        (Status.FAILED,),
        error_contains="no tests were collected",
    ),
    Case(
        Job(
            id="collection-error",
            solution=WRONG_ADD,
            tests="from solution import subtract\n" + ADD_TESTS,
        ),
        (Status.ERROR,),
        error_contains="collection failed",
    ),
    Case(
        Job(
            id="pytest-exit-0-inside-a-test",
            solution=WRONG_ADD,
            tests=code(
                """
                import pytest
                from solution import add
                def test_first():
                    pytest.exit("done", returncode=0)
                def test_small():
                    assert add(1, 2) == 3
                """
            ),
        ),
        (Status.ERROR,),
    ),
    Case(
        wrong(
            "pytest-exit-0-at-solution-import", "import pytest\npytest.exit('done', returncode=0)"
        ),
        (Status.ERROR,),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.job.id for case in CASES])
def test_hostile_job(hostile_pool, case):
    check_case(hostile_pool, case)
