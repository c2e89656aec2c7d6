"""The test-strength gate: static checks before any sandbox time, then coverage, mutation
testing and hollow-test guards measured in the sandbox, combined into one QualityReport.

Importing the package needs only pydantic (the row's quality record is ``report``); the
checks themselves (``static``, ``assess``) import tree-sitter when they are imported.
"""

from factory.quality.config import QualityConfig
from factory.quality.report import QualityReport, Side, StaticReport

__all__ = ["QualityConfig", "QualityReport", "Side", "StaticReport"]
