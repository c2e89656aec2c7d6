"""Per-task CPU limits measured from the reference solutions in the real sandbox, stored with
the machine that measured them, and applied to each task's samples."""

from __future__ import annotations

import json

import pytest

from factory.errors import InputFileError
from factory.evaluate.calibration import Calibration, calibrate, load_or_calibrate
from factory.evaluate.runner import evaluate_file
from sandbox.aio import run

pytestmark = pytest.mark.docker

TASKS = ["HumanEval/0", "HumanEval/2"]


def test_calibration_is_measured_once_stored_and_applied(humaneval, eval_config, tmp_path):
    path = tmp_path / "calibration.json"
    measured = run(calibrate(humaneval, eval_config.pool, floor_s=0.5, task_ids=TASKS))
    path.write_text(json.dumps(measured.model_dump(mode="json")))
    stored = json.loads(path.read_text())
    assert stored["machine"]["cpus"] and stored["machine"]["cpu"] and stored["image"]
    assert set(stored["tasks"]) == set(TASKS)
    for limit in measured.tasks.values():
        assert 0 < limit.reference_cpu_s < 2
        assert limit.cpu_timeout_s == pytest.approx(max(0.5, 4 * limit.reference_cpu_s), abs=1e-3)

    # read back, not measured again (no pool is needed for that)
    again = run(load_or_calibrate(path, humaneval, eval_config.pool, floor_s=0.5))
    assert again == Calibration.model_validate(stored)

    # a looping sample of a calibrated task is stopped at that task's own CPU limit
    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        json.dumps({"task_id": "HumanEval/2", "completion": "    while True:\n        pass\n"})
        + "\n"
    )
    config = eval_config.model_copy(update={"task_cpu_timeouts": again.limits()})
    out = tmp_path / "results.jsonl"
    summary = run(evaluate_file(humaneval, samples, config, out))
    [line] = [json.loads(line) for line in out.read_text().splitlines()]
    assert line["status"] == "timeout" and line["limit"] == "cpu", line
    budget = again.tasks["HumanEval/2"].cpu_timeout_s
    assert budget <= line["cpu_s"] < budget + 0.5
    assert summary.timeouts_by_limit == {"cpu": 1}


def test_a_calibration_of_another_benchmark_is_refused(humaneval, eval_config, tmp_path):
    path = tmp_path / "calibration.json"
    path.write_text(
        json.dumps(
            {
                "benchmark": "mbpp",
                "rule": "r",
                "floor_s": 1,
                "factor": 4,
                "machine": {},
                "image": "i",
                "measured_at": "t",
                "tasks": {},
            }
        )
    )
    with pytest.raises(InputFileError, match="calibrates mbpp, not humaneval"):
        run(load_or_calibrate(path, humaneval, eval_config.pool, floor_s=1))
