"""One warm sandbox container and the line protocol to the worker that is its PID 1.

The channel is the container's attached stdin/stdout: no port, no host path, no socket is
shared. The container is created with ``stdin_once`` and ``auto_remove``, so if this process
dies (even by SIGKILL) the worker reads end-of-file, exits, and Docker removes the container.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import time
from typing import Any

import docker
from docker.errors import APIError, DockerException, NotFound

from sandbox.docker_client import LABEL
from sandbox.errors import WorkerLost, WorkerOverdue
from sandbox.models import Limits

SANDBOX_USER = "10001:10001"
STDERR_KEEP = 8192
OOM_EVENT_WAIT_S = 3.0


def host_config_kwargs(limits: Limits) -> dict[str, Any]:
    """The isolation settings of every sandbox container (see README, "Isolation")."""
    return {
        "network_mode": "bridge" if limits.network else "none",
        "read_only": True,
        "tmpfs": {
            "/work": f"rw,nosuid,nodev,noexec,size={limits.work_mb}m,mode=1777",
            "/tmp": f"rw,nosuid,nodev,noexec,size={limits.tmp_mb}m,mode=1777",
        },
        "shm_size": "16m",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "mem_limit": f"{limits.memory_mb}m",
        "memswap_limit": f"{limits.memory_mb}m",
        "pids_limit": limits.pids,
        "nano_cpus": int(limits.cpus * 1e9),
        "ulimits": [docker.types.Ulimit(name="core", soft=0, hard=0)],
        "auto_remove": True,
        "init": False,
    }


class WorkerContainer:
    """A started container whose worker answers requests one at a time (blocking calls)."""

    def __init__(
        self,
        client: docker.DockerClient,
        image: str,
        limits: Limits,
        runtime: str | None = None,
        labels: dict[str, str] | None = None,
    ):
        self.client = client
        self.image = image
        self.limits = limits
        self.memory_mb = limits.memory_mb
        self.runtime = runtime
        self.labels = {LABEL: "1", "codefactory.owner_pid": str(os.getpid()), **(labels or {})}
        self.id: str | None = None
        self.jobs_run = 0
        self._sock: socket.socket | None = None
        self._pending = bytearray()
        self._lines: list[bytes] = []
        self.stderr_tail = bytearray()

    def start(self, ready_timeout_s: float = 60.0) -> dict[str, Any]:
        api = self.client.api
        created = api.create_container(
            self.image,
            stdin_open=True,  # with detach=False docker-py also sets StdinOnce
            detach=False,
            tty=False,
            use_config_proxy=False,  # never hand the host's proxy settings to untrusted code
            runtime=self.runtime,
            user=SANDBOX_USER,
            environment={},
            hostname="sandbox",
            labels=self.labels,
            network_disabled=not self.limits.network,
            host_config=api.create_host_config(**host_config_kwargs(self.limits)),
        )
        self.id = created["Id"]
        raw = api.attach_socket(self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        self._sock = getattr(raw, "_sock", raw)
        api.start(self.id)
        reply = self.request({"op": "ping"}, ready_timeout_s)
        if reply.get("op") != "pong":
            raise WorkerLost(f"worker did not start: {reply}")
        return reply

    def set_memory(self, memory_mb: int) -> None:
        """Narrows or widens this container's memory limit for the next job."""
        if memory_mb != self.memory_mb:
            mem = f"{memory_mb}m"
            # Raising the limit must grow memswap first; lowering must shrink memory first.
            if memory_mb > self.memory_mb:
                self.client.api.update_container(self.id, memswap_limit=mem, mem_limit=mem)
            else:
                self.client.api.update_container(self.id, mem_limit=mem, memswap_limit=mem)
            self.memory_mb = memory_mb

    def request(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        if self._sock is None:
            raise WorkerLost("container is not started")
        try:
            self._sock.settimeout(timeout_s)
            self._sock.sendall((json.dumps(message) + "\n").encode())
            deadline = time.monotonic() + timeout_s
            while not self._lines:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self._sock.settimeout(remaining)
                self._read_frame()
        except TimeoutError as exc:
            raise WorkerOverdue(
                f"worker in {self.short_id} did not answer in {timeout_s:.0f} s"
            ) from exc
        except OSError as exc:
            raise WorkerLost(
                f"lost the worker in {self.short_id}: {exc}{self._stderr_note()}"
            ) from exc
        line = self._lines.pop(0)
        try:
            reply = json.loads(line)
        except ValueError as exc:
            raise WorkerLost(f"worker in {self.short_id} sent garbage: {line[:200]!r}") from exc
        if reply.get("op") == "error":
            raise WorkerLost(f"worker in {self.short_id} failed: {reply.get('message')}")
        return reply

    def _read_frame(self) -> None:
        header = self._recv_exact(8)
        stream, size = header[0], struct.unpack(">I", header[4:])[0]
        payload = self._recv_exact(size)
        if stream == 2:
            self.stderr_tail = (self.stderr_tail + payload)[-STDERR_KEEP:]
            return
        self._pending += payload
        while b"\n" in self._pending:
            line, _, rest = bytes(self._pending).partition(b"\n")
            self._pending = bytearray(rest)
            if line.strip():
                self._lines.append(line)

    def _recv_exact(self, size: int) -> bytes:
        chunks, missing = [], size
        while missing:
            chunk = self._sock.recv(min(missing, 1 << 20))
            if not chunk:
                raise ConnectionError("the container's stream closed")
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def _stderr_note(self) -> str:
        tail = bytes(self.stderr_tail).decode(errors="replace").strip()
        return f"; worker stderr: {tail[-500:]}" if tail else ""

    def was_oom_killed(self, since: float) -> bool:
        """Whether Docker recorded an out-of-memory kill in this container since ``since``.

        Called after the worker was lost: the daemon may log the container's death a moment
        after the stream closes, so this waits (briefly) for the ``die`` event.
        """
        if not self.id:
            return False
        until = time.time() + OOM_EVENT_WAIT_S
        try:
            stream = self.client.api.events(
                since=f"{since - 1:.6f}",
                until=f"{until:.6f}",
                filters={"container": self.id, "event": ["oom", "die", "destroy"]},
                decode=True,
            )
        except (APIError, DockerException):
            return False
        try:
            for event in stream:
                if event.get("timeNano", 0) < since * 1e9:
                    continue  # an earlier job's out-of-memory kill of its own process
                if event.get("status") == "oom":
                    return True
                if event.get("status") in ("die", "destroy"):
                    return False
        except (APIError, DockerException, OSError, ValueError):
            return False
        finally:
            stream.close()
        return False

    @property
    def short_id(self) -> str:
        return (self.id or "?")[:12]

    def remove(self) -> None:
        """Closes the channel and force-removes the container; never raises."""
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        if self.id:
            try:
                self.client.api.remove_container(self.id, force=True)
            except (NotFound, APIError):
                pass  # already gone (auto_remove) or being removed
