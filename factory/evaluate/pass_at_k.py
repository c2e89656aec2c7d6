"""The unbiased pass@k estimator of the Codex paper, and which k a run can honestly report.

For a task with ``n`` samples of which ``c`` pass, pass@k = 1 - C(n-c, k) / C(n, k): the
probability that at least one of ``k`` samples drawn without replacement passes. The binomials
overflow for large ``n``; the product form 1 - prod_{i=n-c+1}^{n} (1 - k/i) is the same number,
computed stably (Chen et al., 2021, "Evaluating Large Language Models Trained on Code", Fig. 3).

A k is reported only when every task has at least k samples: estimating pass@10 from 5
samples is not possible, and silently reporting 0 or 1 would be a lie. Such k are listed with
the reason instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict


def estimate_pass_at_k(n: int, c: int, k: int) -> float:
    """pass@k for one task with ``n`` samples, ``c`` of them correct (needs ``n >= k``)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1 or n < k:
        raise ValueError(f"pass@{k} needs at least {k} samples, got n={n}")
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


class PassAtK(BaseModel):
    """pass@k averaged over tasks, and the k that could not be reported, with why."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, float]
    omitted: dict[str, str]


def pass_at_k(counts: Mapping[str, tuple[int, int]], ks: Iterable[int]) -> PassAtK:
    """Averages pass@k over tasks; ``counts`` maps task id to (n samples, c correct)."""
    values: dict[str, float] = {}
    omitted: dict[str, str] = {}
    if not counts:
        return PassAtK(
            values={}, omitted={str(k): "no task has a scored sample" for k in sorted(set(ks))}
        )
    smallest_n = min(n for n, _ in counts.values())
    for k in sorted(set(ks)):
        short = sum(1 for n, _ in counts.values() if n < k)
        if short:
            omitted[str(k)] = (
                f"needs at least {k} scored samples per task; {short} of {len(counts)} tasks "
                f"have fewer (smallest n = {smallest_n})"
            )
            continue
        total = sum(estimate_pass_at_k(n, c, k) for n, c in counts.values())
        values[str(k)] = total / len(counts)
    return PassAtK(values=values, omitted=omitted)


def parse_ks(text: str) -> list[int]:
    """Parses ``"1,10,100"``; raises ValueError with a message fit for the user."""
    ks: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            raise ValueError(f"--k takes positive integers separated by commas, got {text!r}")
        ks.append(int(part))
    if not ks:
        raise ValueError("--k needs at least one value, e.g. 1,10,100")
    return sorted(set(ks))
