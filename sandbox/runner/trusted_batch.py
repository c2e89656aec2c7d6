"""Several candidates judged in one trusted-mode job, each in a fresh process.

Why: a job of its own per sample pays a round trip to the host, a job process forked from the
zygote, the worker's full clean-up and its state checks, more than the sample itself when the
checks take a millisecond. Here one job carries N candidate programs, each with its judge
program (a task's, the same for the samples of one task); the judge runs the checks for each
in a fresh namespace against a fresh candidate process, so each sample is judged exactly as it
would be in a job of its own:

- the **spawner**, forked from the job process before anything of the job is read, stays root
  (the container's root, with only the capabilities to switch users and to kill), so no
  candidate can signal, trace or re-limit it. It forks each candidate (which switches to the
  jobs' uid before anything else, as in a job of its own) and, between two samples, kills every
  process a candidate left (it is their subreaper, so none escapes to PID 1), empties every
  scratch place and removes System V IPC objects with the jobs' uid, and says whether anything
  is left;
- the **judge** reads the job, and for each sample asks the spawner for a candidate, runs the
  judge program (``trusted.run_judge``) with every event tagged with the sample's index, then
  stops the candidate and has the container cleaned. A watchdog thread holds each sample to
  its own CPU budget (the container's cgroup, less the worker, the zygote and the spawner) and
  wall-clock limit, as the worker holds a job of its own.

A sample is **settled** here only when its verdict is the one a job of its own would give: the
judge's account of a candidate that lived to the end of the checks, or stopped by its own limit.
A candidate that ended by itself mid-sample (``os._exit``, a signal, the OOM killer), an
out-of-memory kill in the container, or anything else this job cannot account for leaves the
sample unsettled, and the host runs it again in a job of its own. If a candidate changed the
judge (its priority, scheduling, affinity, I/O class) or left something the spawner cannot
remove, the batch stops: the samples after it are unsettled too. Each sample ends with a
``sample_end`` event saying which.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import sys
import threading
import time

import candidate
import cputime
import job as job_process
import trusted
import zygote
from cleanup import SCRATCH_DIRS, acting_as, kill_all_but, remove_sysv_ipc, wipe_dir
from identity import CANDIDATE, JOB_UID, JUDGE, JUDGE_UID, become

BATCH_HEADER = b"B"  # the first byte of the job pipe: a trusted-mode job with candidates
SPAWN = b"spawn"
CLEAN = b"clean"
DRIVER = b"driver "  # then the source the job's own candidates share, compiled once
DRIVER_MAX_BYTES = 64 * 1024
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
SWEEP_ROUNDS = 2000
WATCH_POLL_S = 0.02
ABANDON_AFTER_S = 0.5  # a judge still busy this long after its candidate was stopped

_libc = ctypes.CDLL(None, use_errno=True)


# ---------------------------------------------------------------------------- the spawner
def _serve_spawner(channel: socket.socket, signals: dict, keep: set[int]) -> None:
    """The spawner's life (root, forked before the job was read); never returns."""
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    keep = keep | {os.getpid()}
    # What every candidate starts with, set up once here rather than in each one: the
    # dispositions, environment and streams of a job's process (no handler of ours: a
    # candidate cannot signal this root process anyway).
    job_process._job_environment(signals)
    sys.stdout.reconfigure(line_buffering=True)  # the judge ends a candidate without waiting
    while True:
        try:
            message = channel.recv(DRIVER_MAX_BYTES + 64)
        except OSError:
            message = b""
        if message == SPAWN:
            _spawn(channel)
        elif message == CLEAN:
            channel.send(_clean(keep))
        elif message.startswith(DRIVER):
            _precompile(message[len(DRIVER) :])
        else:  # the judge is gone (or said something we do not know): the job is over
            _sweep(keep)
            os._exit(0)


def _precompile(data: bytes) -> None:
    """Compiles the candidates' shared driver once, for each candidate to inherit (a parser
    only: nothing of it runs here; what does not compile is compiled, and refused, by each
    candidate as usual)."""
    try:
        source = data.decode("utf-8", "surrogatepass")
        path = job_process.SOLUTION_PATH
        candidate.PRECOMPILED[(source, path)] = compile(source, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, UnicodeDecodeError):
        pass


def _fork() -> int | None:
    """Forks a candidate with the C library's ``fork``: this process has one thread and holds
    no lock, so the child needs none of the interpreter's after-fork work (half the cost of a
    candidate that does nothing); the one part of it a candidate can tell, ``random``'s fresh
    seed, it gets here. ``None`` if the kernel refuses."""
    pid = _libc.fork()
    if pid < 0:
        return None
    if pid == 0:
        random = sys.modules.get("random")
        if random is not None:
            random.seed()
    return pid


def _spawn(channel: socket.socket) -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = _fork()
    if pid == 0:
        try:
            channel.close()
            ours.close()
            become(CANDIDATE)
            os.makedirs(job_process.RUN_DIR, exist_ok=True)
            os.chdir(job_process.RUN_DIR)
            candidate.main(theirs, job_process.SOLUTION_PATH)
        finally:
            os._exit(0)
    theirs.close()
    if pid is None:
        channel.send(b"none")
    else:
        socket.send_fds(channel, [b"pid %d" % pid], [ours.fileno()])
    ours.close()


def _clean(keep: set[int]) -> bytes:
    """Kills every process but ``keep``, empties the scratch places with the jobs' uid; says
    ``clean`` or ``dirty <what is left>``."""
    try:
        _sweep(keep)
        left = _left_over()
        if left:
            with acting_as(JOB_UID):
                for path in SCRATCH_DIRS:
                    if any(entry.startswith(path + os.sep) for entry in left):
                        wipe_dir(path)
                remove_sysv_ipc()
            left = _left_over()
    except Exception as exc:
        return b"dirty " + f"{type(exc).__name__}: {exc}".encode()[:200]
    return b"dirty " + ", ".join(left).encode()[:200] if left else b"clean"


def _left_over() -> list[str]:
    """What a candidate left in the scratch places (the judge's own directory aside)."""
    left = []
    for path in SCRATCH_DIRS:
        try:
            names = os.listdir(path)
        except FileNotFoundError:
            continue
        for name in names:
            full = os.path.join(path, name)
            try:
                if os.lstat(full).st_uid == JUDGE_UID:
                    continue
            except OSError:
                continue
            left.append(full)
    for table in ("shm", "sem", "msg"):
        try:
            with open(f"/proc/sysvipc/{table}") as fh:
                if len(fh.read().splitlines()) > 1:
                    left.append(f"System V {table} object")
        except OSError:
            pass
    return left


def _sweep(keep: set[int]) -> None:
    """SIGKILLs every process but ``keep`` (the worker, the zygote, the judge and this one)
    until only the dead are left, reaping them (this process is the candidates' subreaper)."""
    if not kill_all_but(keep, SWEEP_ROUNDS, 0.0005):
        raise RuntimeError("processes survive the kill sweeps")


class Spawner:
    """The judge's handle on the spawner."""

    def __init__(self, channel: socket.socket, pid: int):
        self.channel = channel
        self.pid = pid

    def spawn(self) -> tuple[socket.socket, int]:
        self.channel.send(SPAWN)
        message, fds, _, _ = socket.recv_fds(self.channel, 64, 1)
        if not message.startswith(b"pid ") or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise RuntimeError("the spawner could not fork a candidate")
        return socket.socket(fileno=fds[0]), int(message.split()[1])

    def precompile(self, source: str) -> None:
        data = source.encode("utf-8", "surrogatepass")
        if len(data) <= DRIVER_MAX_BYTES:
            self.channel.send(DRIVER + data)

    def clean(self) -> str:
        """``""`` once the container is as the sample found it, else what is left."""
        self.channel.send(CLEAN)
        reply = self.channel.recv(256)
        if reply == b"clean":
            return ""
        return reply.partition(b" ")[2].decode(errors="replace") or "the spawner is gone"


# ---------------------------------------------------------------------------- the judge
class _BatchCandidate(trusted.Candidate):
    """A candidate forked by the spawner: not the judge's child, so its end is seen as the
    end of its socket only; whether it ended by itself decides whether the sample is settled."""

    ended_by_itself = False

    def _ended(self) -> str:
        if not self.stopped:
            self.ended_by_itself = True
        self.stop("it closed its socket")
        return "it ended"


class _Tagged:
    """The job's event writer for one sample: every event tagged with the sample's index and
    held until :meth:`flush` writes them all at once (one wake-up of the worker a sample)."""

    def __init__(self, fd: int, token: str, index: int):
        self._fd = fd
        self._token = token
        self._index = index
        self._lines: list[bytes] = []

    def emit(self, **event) -> None:
        event["sample"] = self._index
        event["token"] = self._token
        self._lines.append((json.dumps(event) + "\n").encode())

    def flush(self) -> None:
        data = b"".join(self._lines)
        self._lines.clear()
        while data:
            written = os.write(self._fd, data)
            data = data[written:]


class _Watchdog(threading.Thread):
    """Holds the sample being judged to its CPU budget and wall-clock limit: past either, its
    candidate is killed. A judge still busy with its own work a moment after that ends the
    whole job (no handler of a signal the candidate could send it is installed for this): the
    sample and the ones after it are then unsettled, and each runs in a job of its own."""

    def __init__(self, others: list[int]):
        super().__init__(daemon=True)
        self.others = others  # pids whose CPU is not the sample's: worker, zygote, spawner
        self.source = next(
            (entry for entry in cputime.CGROUP_FILES if cputime._read_cgroup(*entry) is not None),
            None,
        )
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.sample: tuple | None = None
        self.limit: str | None = None
        self._fds: list[int] = []

    def reading(self) -> float | None:
        """CPU seconds the container used, less those of ``others`` (the judge's included).

        The files stay open and are read again from their start (a read of a few
        microseconds, where opening them again cost more than the rest of a sample's
        accounting); a file that cannot be read leaves the sample unmeasured."""
        if self.source is None:
            return None
        try:
            if not self._fds:
                paths = [self.source[0], *(f"/proc/{pid}/stat" for pid in self.others)]
                self._fds = [os.open(path, os.O_RDONLY) for path in paths]
            total = _cgroup_value(os.pread(self._fds[0], 4096, 0), *self.source[1:])
            others = sum(_own_times(os.pread(fd, 4096, 0)) for fd in self._fds[1:])
        except (OSError, ValueError, IndexError):
            return None
        return total - others

    def arm(self, peer: trusted.Candidate, cpu_s: float, wall_s: float) -> float | None:
        start = self.reading()
        with self.lock:
            self.sample = (peer, start, time.monotonic(), cpu_s, wall_s)
            self.limit = None
        return start  # first looked at within WATCH_POLL_S: most samples are over before

    def disarm(self) -> str | None:
        with self.lock:
            self.sample = None
            return self.limit

    def run(self) -> None:
        stopped_at = 0.0
        while True:
            self.wake.wait(WATCH_POLL_S)
            self.wake.clear()
            with self.lock:
                sample, limit = self.sample, self.limit
            if sample is None:
                stopped_at = 0.0
                continue
            peer, start, started, cpu_s, wall_s = sample
            if limit is not None:
                if time.monotonic() - stopped_at >= ABANDON_AFTER_S:
                    os.kill(os.getpid(), signal.SIGKILL)
                continue
            now = self.reading()
            if start is not None and now is not None and now - start >= cpu_s:
                limit = "cpu"
            elif time.monotonic() - started >= wall_s:
                limit = "wall"
            if limit is not None:
                with self.lock:
                    if self.sample is sample:
                        self.limit = limit
                        stopped_at = time.monotonic()
                        peer.stop(f"it used up its {limit} limit")


def _cgroup_value(data: bytes, key: str, scale: float) -> float:
    """The CPU time in a cgroup file's text (``cputime.CGROUP_FILES``)."""
    if not key:
        return int(data) * scale
    for line in data.splitlines():
        name, _, value = line.partition(b" ")
        if name == key.encode():
            return int(value) * scale
    raise ValueError(f"no {key} in the cgroup file")


def _own_times(stat: bytes) -> float:
    """A process's own CPU seconds from its ``/proc/<pid>/stat`` (as ``cputime._times``)."""
    fields = stat.rpartition(b")")[2].split()
    return (int(fields[11]) + int(fields[12])) * cputime.TICK_S


def _judge_state() -> tuple:
    """What a candidate may change of the judge (its real uid is the jobs'): priority,
    scheduling policy, CPU affinity, I/O class."""
    pid = os.getpid()
    values = []
    for read in (
        lambda: os.getpriority(os.PRIO_PROCESS, pid),
        lambda: os.sched_getscheduler(pid),
        lambda: os.sched_getaffinity(pid),
        lambda: zygote._ioprio(pid),
    ):
        try:
            values.append(read())
        except OSError:
            values.append(None)
    return tuple(values)


def _oom_kills() -> int:
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as fh:
                for line in fh:
                    name, _, value = line.partition(" ")
                    if name == "oom_kill":
                        return int(value)
        except (OSError, ValueError):
            continue
    return -1


def run(job_fd: int, signals: dict) -> None:
    """The job process of a batch: forks the spawner, becomes the judge, judges each sample."""
    zygote_pid = os.getppid()
    judge_end, spawner_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        try:
            judge_end.close()
            os.close(job_fd)
            os.close(job_process.EVENTS_FD)
            _serve_spawner(spawner_end, signals, {1, zygote_pid, os.getppid()})
        finally:
            os._exit(0)
    spawner_end.close()
    spawner = Spawner(judge_end, pid)
    with open("/proc/self/oom_score_adj", "w") as fh:
        fh.write(job_process.JUDGE_OOM_SCORE_ADJ)
    become(JUDGE)
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    request = json.loads(job_process._read_all(job_fd))
    os.close(job_fd)
    token = request["token"]
    events = job_process._EventWriter(job_process.EVENTS_FD, token)
    job = request["job"]
    del request
    events.emit(event="forked", pid=os.getpid())
    os.environ.clear()
    os.environ.update(job_process.JOB_ENV)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)
    job_process._forget_runner()
    os.makedirs(job_process.JUDGE_DIR, mode=0o700, exist_ok=True)
    os.chdir(job_process.JUDGE_DIR)
    events.emit(event="started")
    samples = [{"solution": job["solution"], "files": job.get("files") or {}}]
    for item in job.get("candidates") or []:
        sample = {"files": item.get("files") or {}}
        for key in ("solution", "tests", "judge_data", "entry_points"):  # each None: the job's
            sample[key] = job[key] if item.get(key) is None else item[key]
        samples.append(sample)
    cpu_s = float(job.get("sample_cpu_timeout_s") or job["cpu_timeout_s"])
    wall_s = float(job.get("sample_timeout_s") or job["timeout_s"])
    watchdog = _Watchdog([1, zygote_pid, pid])
    watchdog.start()
    baseline = _judge_state()
    if any(item.get("solution") is None for item in job.get("candidates") or []):
        spawner.precompile(job["solution"])  # the driver the job's candidates share
    for index, sample in enumerate(samples):
        tagged = _Tagged(job_process.EVENTS_FD, token, index)
        try:
            going_on = _judge_one(job, sample, tagged, spawner, watchdog, cpu_s, wall_s, baseline)
        finally:
            tagged.flush()
        if not going_on:
            break
    events.emit(event="completed")


def _judge_one(job, sample, events, spawner, watchdog, cpu_s, wall_s, baseline) -> bool:
    """Judges one sample and cleans up after it; returns whether the batch may go on."""
    oom_before = _oom_kills()
    started = time.monotonic()
    try:
        sock, pid = spawner.spawn()
    except (OSError, RuntimeError) as exc:
        events.emit(event="sample_end", settled=False, why=f"no candidate process: {exc}",
                    cpu_s=0.0, duration_s=0.0, limit=None, cpu_budget_s=cpu_s)  # fmt: skip
        return False
    peer = _BatchCandidate(sock, pid)
    start = watchdog.arm(peer, cpu_s, wall_s)
    one = dict(job, **sample)
    try:
        trusted.run_judge(
            one,
            peer,
            events,
            lambda source: job_process._judge_pytest(source, events),
            lambda text: job_process._excerpt(text, job_process.MESSAGE_CHARS),
        )
    finally:
        limit = watchdog.disarm()
        peer.stop("the judge program ended")
        sock.close()
    end = watchdog.reading()
    used = max(0.0, end - start) if start is not None and end is not None else 0.0
    duration = time.monotonic() - started
    left = spawner.clean()
    why = ""
    if limit is None and peer.ended_by_itself:
        why = "the candidate process ended by itself"
    elif start is None:
        why = "the CPU time of the sample cannot be measured here"
    elif oom_before < 0 or _oom_kills() > oom_before:
        why = "the memory limit may have been reached"
    events.emit(
        event="sample_end",
        settled=not why,
        why=why,
        limit=limit,
        cpu_s=round(used, 6),
        duration_s=round(duration, 6),
        cpu_budget_s=cpu_s,
    )
    return not left and _judge_state() == baseline
