"""The reward function driven the way GRPO calls it: a batch of completions for each prompt,
the dataset's columns as keyword arguments, judged in the real sandbox."""

from __future__ import annotations

import datasets
import pytest

from factory.training.reward import RewardInfrastructureError, SandboxReward
from sandbox import Job, Limits, PoolConfig
from tests.support.cli import codefactory

pytestmark = pytest.mark.docker

RLE_RIGHT = """def run_length_encode(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        out.append(f"{text[i]}{j - i}")
        i = j
    return "".join(out)
"""
COMPLETIONS = {
    "right": f"Here it is:\n```python\n{RLE_RIGHT}```\n",
    "wrong": "```python\ndef run_length_encode(text):\n    return ''\n```",
    "crashing": "```python\ndef run_length_encode(text):\n    raise RuntimeError('boom')\n```",
    "looping": "```python\ndef run_length_encode(text):\n    while True:\n        pass\n```",
    "not_code": "I am not sure how to solve this.",
    "exits_early": "```python\nimport os\nos._exit(0)\n```",
    "exits_cleanly": "```python\nimport sys\nsys.exit(0)\n```",
    "prints_a_pass": (
        "```python\nprint('4 passed in 0.01s')\nprint('PASSED')\n"
        "def run_length_encode(text):\n    return None\n```"
    ),
    "forges_pytest": (
        "```python\nimport _pytest.runner\n"
        "_real = _pytest.runner.call_and_report\n"
        "def _forged(item, when, log=True, **kw):\n"
        "    report = _real(item, when, log=False, **kw)\n"
        "    report.outcome = 'passed'\n"
        "    return report\n"
        "_pytest.runner.call_and_report = _forged\n"
        "def run_length_encode(text):\n    return None\n```"
    ),
    "memory_hog": "```python\ndef run_length_encode(text):\n    block = bytearray(4 << 30)\n    return ''\n```",
}


@pytest.fixture(scope="module")
def rl_rows(generated_dataset, tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("rl") / "rl.parquet"
    done = codefactory("export", generated_dataset, "--format", "rl", "--out", out)
    assert done.returncode == 0, done.stderr
    return list(datasets.load_dataset("parquet", data_files=str(out), split="train"))


def _grpo_call(reward, rows: list[dict], completions: list, state: int) -> list[float | None]:
    """What GRPOTrainer passes: prompts, completions, completion ids, every other column of
    the batch as a list, and the trainer state."""
    columns = {key: [row[key] for row in rows] for key in rows[0] if key != "prompt"}
    return reward(
        prompts=[row["prompt"] for row in rows],
        completions=completions,
        completion_ids=[[1, 2, 3]] * len(completions),
        trainer_state={"global_step": state},
        **columns,
    )


def test_a_grpo_batch_gets_the_sandbox_verdicts(rl_rows, runner_image, sandbox_pool):
    rle = next(
        row for row in rl_rows if row["verification_info"]["entry_point"] == "run_length_encode"
    )
    names = list(COMPLETIONS)
    pool = PoolConfig(workers=2, image=runner_image, limits=Limits(timeout_s=3))
    with SandboxReward(pool) as fraction, SandboxReward(pool, binary=True) as binary:
        rewards = dict(
            zip(
                names,
                _grpo_call(fraction, [rle] * len(names), list(COMPLETIONS.values()), 1),
                strict=True,
            )
        )
        as_chat = _grpo_call(
            fraction,
            [rle, rle],
            [
                [{"role": "assistant", "content": COMPLETIONS["right"]}],
                [{"role": "assistant", "content": COMPLETIONS["wrong"]}],
            ],
            2,
        )
        binary_rewards = dict(
            zip(
                names,
                _grpo_call(binary, [rle] * len(names), list(COMPLETIONS.values()), 1),
                strict=True,
            )
        )
        assert fraction.pool_starts == 1  # warm across calls
    assert rewards["right"] == 1.0 and binary_rewards["right"] == 1.0
    # the wrong answer's fraction is the share of the row's tests it passes, as the sandbox counts
    tests = rle["verification_info"]["test_code"]
    wrong = sandbox_pool.run(
        Job(id="wrong", solution="def run_length_encode(text):\n    return ''\n", tests=tests)
    )
    assert wrong.n_tests > 0 and rewards["wrong"] == wrong.n_passed / wrong.n_tests < 1.0
    assert binary_rewards["wrong"] == 0.0
    for hostile in names[2:]:
        assert rewards[hostile] == 0.0, hostile
        assert binary_rewards[hostile] == 0.0, hostile
    assert as_chat == [1.0, rewards["wrong"]]


def test_rows_are_judged_by_their_own_tests(rl_rows, runner_image):
    pool = PoolConfig(workers=2, image=runner_image, limits=Limits(timeout_s=3))
    with SandboxReward(pool) as reward:
        rewards = _grpo_call(reward, rl_rows, [COMPLETIONS["right"]] * len(rl_rows), 1)
    entry_points = [row["verification_info"]["entry_point"] for row in rl_rows]
    assert dict(zip(entry_points, rewards, strict=True))["run_length_encode"] == 1.0
    assert dict(zip(entry_points, rewards, strict=True))["merge_intervals"] == 0.0


def test_a_pool_that_cannot_start_is_none_or_a_clear_error_never_zero(rl_rows, docker_client):
    missing = PoolConfig(workers=1, image="codefactory-runner:absent-for-the-reward-test")
    rows = rl_rows[:1] * 2
    with SandboxReward(missing, retries=1, retry_wait_s=0) as reward:
        assert _grpo_call(reward, rows, [COMPLETIONS["right"]] * 2, 1) == [None, None]
    raising = SandboxReward(missing, retries=1, retry_wait_s=0, on_failure="raise")
    with raising, pytest.raises(RewardInfrastructureError, match="after 2 tries: starting"):
        _grpo_call(raising, rows, [COMPLETIONS["right"]] * 2, 1)
