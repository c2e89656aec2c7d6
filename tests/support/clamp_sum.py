"""One problem, its solution and test files of known strength, shared by the quality tests:
strong tests that pin the solution down, and weak ones that check only that it returns."""

SIGNATURE = "def clamp_sum(xs: list[int], k: int) -> int"
PROBLEM = {"entry_point": "clamp_sum", "signature": SIGNATURE}
SOLUTION = '''def clamp_sum(xs, k):
    """Sum of the items, each capped at k."""
    total = 0
    for x in xs:
        if x > k:
            total += k
        else:
            total += x
    return total
'''
STRONG_TESTS = """from solution import clamp_sum


def test_empty():
    assert clamp_sum([], 3) == 0


def test_below_the_cap():
    assert clamp_sum([1, 2], 5) == 3


def test_capped():
    assert clamp_sum([1, 7, 3], 3) == 7


def test_negative_and_zero_cap():
    assert clamp_sum([-2, 10], 0) == -2
    assert clamp_sum([4, 4], 4) == 8
"""
WEAK_TESTS = """from solution import clamp_sum


def test_returns_something():
    assert clamp_sum([1], 2) is not None


def test_empty_returns_something():
    assert clamp_sum([], 2) is not None


def test_type():
    assert isinstance(clamp_sum([1, 2], 5), int)
"""
