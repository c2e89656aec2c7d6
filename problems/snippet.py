"""A piece of real code a problem is grounded on (a seed snippet), as the plan hands it out.

Plain data, so the plan stays a pure function of its inputs; extraction and loading live in
``factory.grounding.code_seeds``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Snippet:
    code: str
    source: str  # a file path, or "<jsonl or dataset>#<row>"
    sha256: str  # of the code as shown to the model
    kind: str  # "function", "class" or "window"
    name: str = ""  # the function's or class's name; "" for a window
    licence: str = ""  # the source's licence field, when it has one


@dataclass(frozen=True)
class FocusExample:
    """A problem an evaluated model failed, shown as "similar to those it failed on"."""

    id: str
    title: str
    description: str
