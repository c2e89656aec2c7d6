"""Which user each process of a job runs as.

The image's user (uid 10001) runs the worker and the zygote. A job's code runs as
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

import os

WORKER_UID = 10001
JOB_UID = 10002
JUDGE_UID = 10003

CANDIDATE = "candidate"
JUDGE = "judge"
_IDS = {CANDIDATE: (JOB_UID, JOB_UID, JOB_UID), JUDGE: (JOB_UID, JUDGE_UID, JUDGE_UID)}


def become(role: str) -> bool:
    """Takes the uids of ``role`` (and matching gids, no supplementary groups); returns whether
    it could. Must run before any of the job's code."""
    real, effective, saved = _IDS[role]
    if os.getresuid() == (real, effective, saved):
        return True
    try:
        os.setgroups([])
        os.setresgid(real, effective, saved)
        os.setresuid(real, effective, saved)
    except PermissionError:
        return False
    return True
