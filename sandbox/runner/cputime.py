"""CPU time of a job, measured from outside it, so a busy loop is stopped when its CPU budget
is spent whatever else the machine is doing.

A wall-clock limit measures the machine as much as the code: under load the same loop gets
less CPU per second and a slow-but-correct solution times out. What a job cannot change is the
kernel's accounting: the container's cgroup counts the CPU time of every process in it, live,
exited or reaped (``cpuacct.usage`` in cgroup v1, ``usage_usec`` in v2's ``cpu.stat``), and
``/proc/<pid>/stat`` gives each process's own share. A job's CPU time is what the container
used since the job began, minus what the processes that are not the job used meanwhile (the
worker, the zygote, and in a job with variants, the job process that supervises them; each
read from the scheduler's own nanosecond count where it has one thread). Where
no cgroup file is readable (some sandboxing runtimes), it is the sum over the job's live
processes of their own and their reaped children's time, plus the reaped children of the
excluded processes (the zygote reaps the job process, PID 1 reaps orphans).

Standard library only: this module runs inside the runner image.
"""

from __future__ import annotations

import os

CGROUP_FILES = (
    ("/sys/fs/cgroup/cpu.stat", "usage_usec", 1e-6),  # cgroup v2
    ("/sys/fs/cgroup/cpuacct/cpuacct.usage", "", 1e-9),  # cgroup v1
    ("/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage", "", 1e-9),
)
TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def _read_cgroup(path: str, key: str, scale: float) -> float | None:
    try:
        with open(path) as fh:
            if not key:
                return int(fh.read()) * scale
            for line in fh:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value) * scale
    except (OSError, ValueError):
        return None
    return None


def _times(pid: int) -> tuple[float, float]:
    """(own, reaped children's) CPU seconds of ``pid``; (0, 0) once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rpartition(b")")[2].split()
    except OSError:
        return 0.0, 0.0
    try:
        # After the ")" that closes the name: state is field 0, utime 11, stime 12,
        # cutime 13, cstime 14 (fields 14 to 17 of proc(5)).
        own = (int(fields[11]) + int(fields[12])) * TICK_S
        children = (int(fields[13]) + int(fields[14])) * TICK_S
    except (IndexError, ValueError):
        return 0.0, 0.0
    return own, children


def _own(pid: int) -> float:
    """CPU seconds ``pid`` itself has used: the scheduler's nanosecond count
    (``/proc/<pid>/schedstat``, the same count the cgroup adds up) when it is one thread,
    else ``/proc/<pid>/stat``'s, in clock ticks. A tick is 10 ms: subtracting tick counts from
    the cgroup's total made a variant of 10 ms read anywhere from 0 to 10 ms whenever the
    supervising process crossed a tick meanwhile."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            fields = fh.read().rpartition(b")")[2].split()
        if int(fields[17]) == 1:  # num_threads
            with open(f"/proc/{pid}/schedstat", "rb") as fh:
                return int(fh.read().split()[0]) * 1e-9
        return (int(fields[11]) + int(fields[12])) * TICK_S
    except (OSError, IndexError, ValueError):
        return _times(pid)[0]


class CpuMeter:
    """CPU seconds used, since it was made, by every process in the container except
    ``excluded`` (pids; this process is always excluded).

    ``used()`` never goes down (a process reaped between two readings may be seen once in its
    parent's children's time and once on its own).
    """

    def __init__(self, excluded: tuple[int, ...] | list[int] = ()):
        self.excluded = sorted({os.getpid(), *excluded})
        self.source = next(
            (entry for entry in CGROUP_FILES if _read_cgroup(*entry) is not None), None
        )
        self._start = self._reading()
        self._high = 0.0

    def used(self) -> float:
        value = max(self._high, self._reading() - self._start)
        self._high = value
        return value

    def _reading(self) -> float:
        if self.source is not None:
            total = _read_cgroup(*self.source)
            if total is not None:
                return total - sum(_own(pid) for pid in self.excluded)
        return self._from_proc()

    def _from_proc(self) -> float:
        total = 0.0
        excluded = set(self.excluded)
        try:
            entries = os.listdir("/proc")
        except OSError:
            return 0.0
        for entry in entries:
            if not entry.isdigit():
                continue
            own, children = _times(int(entry))
            total += children if int(entry) in excluded else own + children
        return total
