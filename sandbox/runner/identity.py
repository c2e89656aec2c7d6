"""Which user each process of a job runs as.

The worker and the zygote run as the container's root (uid 0) holding only the capabilities
to switch users and to kill (``sandbox/container.py``), so a job can neither signal, trace nor
re-limit them: the kernel lets a process do that only to processes of its own uid. A job's
code runs as
``JOB_UID``; in trusted mode the judge runs with ``JUDGE_UID`` as its effective and saved uid
(:data:`JUDGE`), so the candidate can neither ptrace it, read its memory or descriptors, change
its resource limits, nor read the judge's files (its directory is mode 0700). The judge keeps
``JOB_UID`` as its real uid for one reason: the kernel lets a process signal another whose
real uid matches its own, so the judge can stop a candidate that exceeded a call's limit
without holding any capability. (The candidate can signal the judge in turn: that only ends or
slows its own job, which then fails.)

:func:`become` switches only when the process may (it runs as root, or holds the setuid and
setgid capabilities); in a container started without them every process keeps the image's
user, and the judge is then kept apart from the candidate by its separate address space and by
being non-dumpable, which still refuses ptrace, ``/proc/<pid>/mem`` and ``/proc/<pid>/fd``.
"""

from __future__ import annotations

import ctypes
import os

WORKER_UID = 0
# Each container's jobs get uids of their own (the host picks them, ``job_uids_for_a_container``):
# the kernel keeps some counts per uid across the whole machine (inotify instances, pipe
# buffers, processes), so jobs of one uid in different containers could exhaust them for each
# other. A worker started without the variable uses the defaults.
UID_ENV = "CODEFACTORY_JOB_UID"
DEFAULT_JOB_UID = 10002
# Even numbers (the judge takes the next one), far above the uids of a machine's users and of
# the ranges /etc/subuid hands to rootless containers (from 100000, in blocks of 65536).
UID_RANGE = (1_500_000_000, 2_000_000_000)


def _job_uid(value: str | None) -> int:
    try:
        uid = int(value or DEFAULT_JOB_UID)
    except ValueError:
        return DEFAULT_JOB_UID
    return uid if uid == DEFAULT_JOB_UID or UID_RANGE[0] <= uid < UID_RANGE[1] else DEFAULT_JOB_UID


def job_uids_for_a_container() -> int:
    """A fresh job uid for one container (chosen at random: no two of a machine's containers
    are likely to share one, whichever process started them)."""
    import secrets

    low, high = UID_RANGE
    return low + 2 * secrets.randbelow((high - low) // 2)


JOB_UID = _job_uid(os.environ.get(UID_ENV))
JUDGE_UID = JOB_UID + 1

PR_SET_DUMPABLE = 4
JOB_UIDS = (JOB_UID, JUDGE_UID)  # every uid a job's processes may hold, for the cleanup

CANDIDATE = "candidate"
JUDGE = "judge"
_libc = ctypes.CDLL(None, use_errno=True)
_IDS = {CANDIDATE: (JOB_UID, JOB_UID, JOB_UID), JUDGE: (JOB_UID, JUDGE_UID, JUDGE_UID)}


def become(role: str) -> bool:
    """Takes the uids of ``role`` (and matching gids, no supplementary groups); returns whether
    it could. Must run before any of the job's code.

    A process that is root cannot fail to switch quietly: it raises, so no job's code ever
    runs as the worker's user. A candidate is made dumpable again (the switch made it not), so
    it can read its own ``/proc/self`` files as any program expects; a judge stays not.
    """
    real, effective, saved = _IDS[role]
    if os.getresuid() == (real, effective, saved):
        return True
    try:
        os.setgroups([])
        os.setresgid(real, effective, saved)
        os.setresuid(real, effective, saved)
    except PermissionError:
        if 0 in os.getresuid():
            raise
        return False
    if role == CANDIDATE:
        _libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    return True
