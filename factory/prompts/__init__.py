"""Prompt templates, versioned as files, and the hash that every record carries.

Templates live in ``templates/<version>/<name>.txt``. A file holds one or more messages, each
opened by a line ``@@ system``, ``@@ user`` or ``@@ assistant``; ``$name`` placeholders are
filled by :class:`string.Template` (``$$`` for a literal dollar), so code and JSON in values
need no escaping. Changing any template changes :attr:`PromptSet.hash`; an edit meant to be
kept gets a new version directory so old rows keep pointing at the prompts that made them.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_VERSION = "v1"
ROLE_LINE = re.compile(r"^@@ (system|user|assistant)[ \t]*$", re.MULTILINE)

Message = dict[str, str]


@dataclass(frozen=True)
class PromptSet:
    """One version's templates, parsed into (role, Template) messages per name."""

    version: str
    hash: str
    templates: dict[str, tuple[tuple[str, Template], ...]]

    def messages(self, name: str, **values: object) -> list[Message]:
        """Renders template ``name``; a placeholder without a value is a programming error."""
        try:
            parts = self.templates[name]
        except KeyError:
            raise KeyError(f"no prompt template {name!r} in version {self.version}") from None
        text = {key: str(value) for key, value in values.items()}
        return [
            {"role": role, "content": template.substitute(text).strip()} for role, template in parts
        ]


def load_prompts(version: str = DEFAULT_VERSION) -> PromptSet:
    """Loads a template version (cached: the files are read once per process)."""
    return _load(version)


@cache
def _load(version: str) -> PromptSet:
    directory = TEMPLATES_DIR / version
    files = sorted(directory.glob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no prompt templates in {directory}")
    digest = hashlib.sha256(version.encode() + b"\0")
    templates = {}
    for path in files:
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        templates[path.stem] = _split_messages(path, raw.decode("utf-8"))
    return PromptSet(version=version, hash=digest.hexdigest()[:16], templates=templates)


def _split_messages(path: Path, text: str) -> tuple[tuple[str, Template], ...]:
    matches = list(ROLE_LINE.finditer(text))
    if not matches or text[: matches[0].start()].strip():
        raise ValueError(f"{path} must start with a '@@ system' or '@@ user' line")
    parts = []
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        body = text[match.end() : following.start() if following else len(text)]
        parts.append((match.group(1), Template(body.strip("\n"))))
    return tuple(parts)
