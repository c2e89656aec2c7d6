"""The sandbox's user-facing errors: each says what is wrong and what to do next.

What untrusted code does (fail, time out, run out of memory) is never an exception: it is data
in the :class:`~sandbox.models.Result`. These are for the infrastructure and its configuration.
"""

from __future__ import annotations


class SandboxError(Exception):
    """Base class: a problem with the sandbox's setup, reported as one clear line."""


class DockerUnavailable(SandboxError):
    """No Docker daemon answers."""


class ImageMissing(SandboxError):
    """The runner image for this version of the worker is not built."""


class ImageBuildError(SandboxError):
    """Building the runner image failed."""


class WorkerLost(SandboxError):
    """A container's worker stopped answering or broke the protocol (our failure, retried)."""


class WorkerOverdue(WorkerLost):
    """The worker did not reply within the job's deadline plus grace: the job starved it."""


class JobFileError(SandboxError):
    """A jobs file is missing or malformed; the message names the file and line."""
