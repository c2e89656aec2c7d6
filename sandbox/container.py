"""One warm sandbox container and the line protocol to the worker that is its PID 1.

The channel is the container's attached stdin/stdout: no port, no host path, no socket is
shared. The container is created with ``stdin_once`` and ``auto_remove``, so if this process
dies (even by SIGKILL) the worker reads end-of-file, exits, and Docker removes the container.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import threading
import time
import weakref
from typing import Any

import docker
from docker.errors import APIError, DockerException, NotFound

from sandbox.docker_client import LABEL
from sandbox.errors import WorkerLost, WorkerOverdue
from sandbox.models import Limits
from sandbox.runner.identity import UID_ENV, job_uids_for_a_container
from sandbox.runner.protocol import MalformedReply, Reply, check_reply
from sandbox.text import representable

# The worker and the zygote run as the container's root, holding only the capabilities to switch
# users and to kill the jobs' processes; every job process switches to the jobs' uid (see
# sandbox/runner/identity.py), so no job can signal, trace or re-limit the worker or the zygote.
SANDBOX_USER = "0:0"
WORKER_CAPABILITIES = ["SETUID", "SETGID", "KILL"]
STDERR_KEEP = 8192
WORK_INODES = 49152
TMP_INODES = 49152
SHM_MB = 16
SHM_INODES = 1024
OOM_EVENT_WAIT_S = 3.0
REMOVAL_WAIT_S = 15.0
# What a call to the daemon raises when it fails or is gone: docker-py's own errors, and the
# connection errors of ``requests`` underneath (OSError subclasses), which docker-py lets through.
DOCKER_ERRORS = (DockerException, OSError)


def host_config_kwargs(limits: Limits) -> dict[str, Any]:
    """The isolation settings of every sandbox container (see README, "Isolation")."""
    return {
        "network_mode": "bridge" if limits.network else "none",
        "read_only": True,
        # Each scratch place also caps its count of files: an inode and its dentry are kernel
        # memory charged to the container, not bounded by ``size=``, and they outlive the job
        # until the cleanup; hundreds of thousands of empty files filled the memory limit and
        # had the kernel kill the worker.
        "tmpfs": {
            "/work": f"rw,nosuid,nodev,noexec,size={limits.work_mb}m,nr_inodes={WORK_INODES},"
            "mode=1777",
            "/tmp": f"rw,nosuid,nodev,noexec,size={limits.tmp_mb}m,nr_inodes={TMP_INODES},"
            "mode=1777",
            "/dev/shm": f"rw,nosuid,nodev,noexec,size={SHM_MB}m,nr_inodes={SHM_INODES},mode=1777",
        },
        "cap_drop": ["ALL"],
        "cap_add": WORKER_CAPABILITIES,
        "security_opt": ["no-new-privileges:true"],
        "mem_limit": f"{limits.memory_mb}m",
        "memswap_limit": f"{limits.memory_mb}m",
        "pids_limit": limits.pids,
        "nano_cpus": int(limits.cpus * 1e9),
        "ulimits": [docker.types.Ulimit(name="core", soft=0, hard=0)],
        "auto_remove": True,
        "init": False,
        # Replies travel over the attached stream only: nothing of a job is kept on the host's
        # disk by a log driver.
        "log_config": docker.types.LogConfig(type=docker.types.LogConfig.types.NONE),
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
        self.labels = {**(labels or {}), LABEL: "1", "codefactory.owner_pid": str(os.getpid())}
        self.id: str | None = None
        self.jobs_run = 0
        self.epoch = 0  # which daemon lifetime of the pool started it (see SandboxPool)
        self._sock: socket.socket | None = None
        self._pending = bytearray()
        self._lines: list[bytes] = []
        self.stderr_tail = bytearray()
        self._lock = threading.Lock()
        self._closed = False
        # remove() writes a byte here to wake a request waiting on the channel: shutting the
        # socket down does not always wake a thread polling it (seen here as a request that
        # outlived its container by its whole timeout and kept the process from exiting).
        self._wake_r, self._wake_w = os.pipe()
        # Closed only once nothing can poll them any more (a closed descriptor's number could
        # be reused by another file while a late request polls it).
        weakref.finalize(self, _close_all, self._wake_r, self._wake_w)
        self._poller = select.poll()  # the channel and the wake-up pipe
        self._poller.register(self._wake_r, select.POLLIN)
        self._removal_lock = threading.Lock()
        self._removed = False

    def start(self, ready_timeout_s: float = 60.0) -> None:
        """Creates and starts the container and waits for its worker to answer a ping.

        Safe against :meth:`remove` being called from another thread meanwhile (a pool
        shutting down while a replacement starts): the container is then removed, never left
        running. Docker API failures become :class:`WorkerLost`, which the pool retries.
        """
        api = self.client.api
        try:
            created = api.create_container(
                self.image,
                stdin_open=True,  # with detach=False docker-py also sets StdinOnce
                detach=False,
                tty=False,
                use_config_proxy=False,  # never hand the host's proxy settings to untrusted code
                runtime=self.runtime,
                user=SANDBOX_USER,
                environment={UID_ENV: str(job_uids_for_a_container())},
                hostname="sandbox",
                labels=self.labels,
                network_disabled=not self.limits.network,
                host_config=api.create_host_config(**host_config_kwargs(self.limits)),
            )
            with self._lock:
                self.id = created["Id"]
                closed = self._closed
            if closed:
                self.remove()
                raise WorkerLost("the container was removed while it started")
            raw = api.attach_socket(
                self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            with self._lock:
                self._sock = getattr(raw, "_sock", raw)
                self._poller.register(self._sock, select.POLLIN)
                closed = self._closed
            if closed:
                self.remove()
                raise WorkerLost("the container was removed while it started")
            api.start(self.id)
        except DOCKER_ERRORS as exc:
            raise WorkerLost(f"cannot start a sandbox container: {exc}") from exc
        reply = self.request({"op": "ping"}, ready_timeout_s)
        if reply.get("op") != "pong":
            raise WorkerLost(f"worker did not start: {reply}")

    def set_memory(self, memory_mb: int) -> None:
        """Narrows or widens this container's memory limit for the next job."""
        if memory_mb != self.memory_mb:
            mem = f"{memory_mb}m"
            # Raising the limit must grow memswap first; lowering must shrink memory first.
            try:
                if memory_mb > self.memory_mb:
                    self.client.api.update_container(self.id, memswap_limit=mem, mem_limit=mem)
                else:
                    self.client.api.update_container(self.id, mem_limit=mem, memswap_limit=mem)
            except DOCKER_ERRORS as exc:
                raise WorkerLost(f"cannot set the memory limit of {self.short_id}: {exc}") from exc
            self.memory_mb = memory_mb

    def request(self, message: dict[str, Any], timeout_s: float) -> Reply:
        """Sends one request and returns the worker's reply, checked against its declared shape.

        Raises :class:`WorkerLost` (or :class:`WorkerOverdue`) when the worker does not answer
        or says it failed, and :class:`MalformedReply` for a reply of the wrong shape.
        """
        sock = self._sock  # remove() may drop it from another thread: closing it ends this
        if sock is None:
            raise WorkerLost(f"container {self.short_id} is not started or was removed")
        try:
            sock.settimeout(timeout_s)
            sock.sendall((json.dumps(message) + "\n").encode())
            deadline = time.monotonic() + timeout_s
            while not self._lines:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._wait_readable(remaining):
                    raise TimeoutError
                sock.settimeout(remaining)
                self._read_frame(sock)
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
            # Every string in it made representable here, once (see sandbox/text.py).
            reply = check_reply(representable(json.loads(line)))
        except MalformedReply:
            raise
        except Exception as exc:  # not JSON, or nested too deep to parse
            raise WorkerLost(f"worker in {self.short_id} sent garbage: {line[:200]!r}") from exc
        if reply["op"] == "error":
            raise WorkerLost(f"worker in {self.short_id} failed: {reply.get('message')}")
        return reply

    def _wait_readable(self, timeout_s: float) -> bool:
        """Whether the channel has data within ``timeout_s``; raises once :meth:`remove` ran."""
        ready = self._poller.poll(timeout_s * 1000)
        if self._closed:
            raise ConnectionError("the container was removed")
        return bool(ready)

    def _read_frame(self, sock: socket.socket) -> None:
        header = _recv_exact(sock, 8)
        stream, size = header[0], struct.unpack(">I", header[4:])[0]
        payload = _recv_exact(sock, size)
        if stream == 2:
            self.stderr_tail = (self.stderr_tail + payload)[-STDERR_KEEP:]
            return
        self._pending += payload
        while b"\n" in self._pending:
            line, _, rest = bytes(self._pending).partition(b"\n")
            self._pending = bytearray(rest)
            if line.strip():
                self._lines.append(line)

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
        except DOCKER_ERRORS:
            return False
        try:
            for event in stream:
                if event.get("timeNano", 0) < since * 1e9:
                    continue  # an earlier job's out-of-memory kill of its own process
                if event.get("status") == "oom":
                    return True
                if event.get("status") in ("die", "destroy"):
                    return False
        except (*DOCKER_ERRORS, ValueError):
            return False
        finally:
            stream.close()
        return False

    @property
    def short_id(self) -> str:
        return (self.id or "?")[:12]

    def remove(self) -> None:
        """Closes the channel and removes the container; returns once it is gone.

        Never raises, is thread-safe and idempotent: a second caller waits for the first
        removal to finish, and a removal Docker already has in progress (``auto_remove`` after
        the worker exited) is waited for, so a pool that has closed has really cleaned up.
        """
        with self._lock:
            first = not self._closed
            self._closed = True
            sock, self._sock = self._sock, None
        if first:
            os.write(self._wake_w, b"x")  # never blocks: the pipe holds far more than a byte
        if sock is not None:
            # shutdown() first: close() alone does not wake a thread blocked reading this socket
            # (a request in flight), which then waits out its whole timeout and keeps the
            # process from exiting; shutdown() ends that read at once.
            for close in (lambda: sock.shutdown(socket.SHUT_RDWR), sock.close):
                try:
                    close()
                except OSError:
                    pass
        with self._removal_lock:
            container_id = self.id
            if not container_id or self._removed:
                return
            try:
                self.client.api.remove_container(container_id, force=True)
            except NotFound:
                pass
            except APIError:
                self._wait_until_gone(container_id)  # "removal already in progress"
            except DOCKER_ERRORS:
                return  # the daemon is unreachable: Docker's auto_remove is the last resort
            self._removed = True

    def _wait_until_gone(self, container_id: str) -> None:
        end = time.monotonic() + REMOVAL_WAIT_S
        while time.monotonic() < end:
            try:
                self.client.api.inspect_container(container_id)
            except NotFound:
                return
            except DOCKER_ERRORS:
                return
            time.sleep(0.1)


def _close_all(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks, missing = [], size
    while missing:
        chunk = sock.recv(min(missing, 1 << 20))
        if not chunk:
            raise ConnectionError("the container's stream closed")
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
