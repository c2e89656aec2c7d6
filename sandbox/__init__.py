"""Run untrusted solutions and tests in warm Docker containers, under hard limits.

This package never imports ``factory``: it is the execution layer that the generation
pipeline and the evaluation harness call.
"""

from sandbox.errors import DockerUnavailable, ImageMissing, SandboxError
from sandbox.models import BatchCandidate, Job, Limits, Result, Status, TestOutcome, Variant
from sandbox.pool import PoolConfig, SandboxPool

__all__ = [
    "BatchCandidate",
    "DockerUnavailable",
    "ImageMissing",
    "Job",
    "Limits",
    "PoolConfig",
    "Result",
    "SandboxError",
    "SandboxPool",
    "Status",
    "TestOutcome",
    "Variant",
]
