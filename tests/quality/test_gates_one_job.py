"""The gates in one sandbox job (variants in forked children, CPU budgets) give the same reports
as the gates run one job per variant under wall-clock limits, on candidates whose mutants loop,
recurse without end, work on strings and return early, and on tests that use pytest's fixtures,
parametrize, pytest.raises, a class of tests and module-level setup (the variants share one
prepared pytest session, and a mutant's session ends at its first failing test)."""

from __future__ import annotations

import pytest

from factory.quality import QualityConfig
from factory.quality.assess import assess
from sandbox import Limits, PoolConfig, SandboxPool
from sandbox.aio import run

pytestmark = pytest.mark.docker

CANDIDATES = {
    "loop": (
        {"entry_point": "digits_sum", "signature": "def digits_sum(n: int) -> int"},
        "def digits_sum(n):\n    total = 0\n    while n > 0:\n        total += n % 10\n"
        "        n //= 10\n    return total\n",
        "from solution import digits_sum\n\n\ndef test_zero():\n    assert digits_sum(0) == 0\n\n\n"
        "def test_one_digit():\n    assert digits_sum(7) == 7\n\n\n"
        "def test_many():\n    assert digits_sum(1234) == 10\n    assert digits_sum(909) == 18\n",
    ),
    "recursion": (
        {"entry_point": "fib", "signature": "def fib(n: int) -> int"},
        "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
        "from solution import fib\n\n\ndef test_base():\n    assert fib(0) == 0\n    assert fib(1) == 1\n"
        "\n\ndef test_small():\n    assert fib(2) == 1\n    assert fib(7) == 13\n\n\n"
        "def test_larger():\n    assert fib(15) == 610\n",
    ),
    "strings": (
        {"entry_point": "is_palindrome", "signature": "def is_palindrome(s: str) -> bool"},
        "def is_palindrome(s):\n    cleaned = ''.join(c.lower() for c in s if c.isalnum())\n"
        "    i, j = 0, len(cleaned) - 1\n    while i < j:\n        if cleaned[i] != cleaned[j]:\n"
        "            return False\n        i += 1\n        j -= 1\n    return True\n",
        "from solution import is_palindrome\n\n\ndef test_empty():\n    assert is_palindrome('')\n\n\n"
        "def test_yes():\n    assert is_palindrome('A man, a plan, a canal: Panama')\n"
        "    assert is_palindrome('abba')\n\n\n"
        "def test_no():\n    assert not is_palindrome('abc')\n    assert not is_palindrome('ab')\n",
    ),
    # weak tests: the branch for negative numbers is never taken, some mutants survive
    "early_returns": (
        {"entry_point": "sign", "signature": "def sign(x: int) -> int"},
        "def sign(x):\n    if x > 0:\n        return 1\n    if x < 0:\n        return -1\n"
        "    return 0\n",
        "from solution import sign\n\n\ndef test_positive():\n    assert sign(5) == 1\n\n\n"
        "def test_zero():\n    assert sign(0) == 0\n\n\ndef test_big():\n    assert sign(10**9) == 1\n",
    ),
    # what LLM-written tests use: fixtures (one with a teardown), parametrize, pytest.raises,
    # a class of tests and module-level setup that reads the solution
    "pytest_features": (
        {"entry_point": "parse_pair", "signature": "def parse_pair(text: str) -> tuple"},
        "def parse_pair(text):\n    if ',' not in text:\n        raise ValueError(text)\n"
        "    left, right = text.split(',', 1)\n    return int(left), int(right)\n",
        "import pytest\n\nimport solution\nfrom solution import parse_pair\n\n"
        "EXPECTED = {'1,2': (1, 2), '10,-3': (10, -3)}\nPARSER = solution.parse_pair\n\n\n"
        "@pytest.fixture\ndef samples():\n    yield dict(EXPECTED)\n\n\n"
        "@pytest.fixture(scope='module')\ndef parser():\n    return PARSER\n\n\n"
        "@pytest.mark.parametrize('text,pair', sorted(EXPECTED.items()))\n"
        "def test_pairs(text, pair):\n    assert parse_pair(text) == pair\n\n\n"
        "def test_fixture(samples, parser):\n"
        "    assert all(parser(t) == p for t, p in samples.items())\n\n\n"
        "class TestErrors:\n    def test_no_comma(self):\n        with pytest.raises(ValueError):\n"
        "            parse_pair('12')\n\n"
        "    def test_not_a_number(self):\n        with pytest.raises(ValueError):\n"
        "            parse_pair('a,b')\n",
    ),
}
# What may differ: how long it took, and the mutants' limit (a wall-clock timeout one way, a
# CPU budget the other).
VOLATILE = {"duration_s": True, "mutation": {"timeout_s": True}}


async def _reports(image: str, one_job: bool) -> dict:
    config = QualityConfig(fail_fast=False)
    pool_config = PoolConfig(workers=2, image=image, limits=Limits(timeout_s=10))
    async with SandboxPool(pool_config) as pool:
        return {
            name: (await assess(pool, problem, solution, tests, config, one_job=one_job))
            for name, (problem, solution, tests) in CANDIDATES.items()
        }


def test_one_job_gives_the_same_reports_as_one_job_per_variant(runner_image):
    separate = run(_reports(runner_image, one_job=False))
    together = run(_reports(runner_image, one_job=True))
    for name in CANDIDATES:
        old, new = separate[name], together[name]
        assert new.model_dump(exclude=VOLATILE) == old.model_dump(exclude=VOLATILE), name
        assert old.mutation is not None and old.mutation.n_mutants > 0, name
        # sandbox_runs (compared above) counts the sessions: the real solution and each variant
    assert not together["early_returns"].passed  # the weak tests are still found weak
    assert together["loop"].mutation.killed > 0
