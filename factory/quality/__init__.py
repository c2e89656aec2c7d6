"""Test-strength gates: static checks before any sandbox time, then coverage, mutation
testing and hollow-test guards measured in the sandbox, combined into one QualityReport.
"""

from factory.quality.config import QualityConfig
from factory.quality.gates import assess
from factory.quality.report import QualityReport
from factory.quality.static import StaticReport, check_static

__all__ = ["QualityConfig", "QualityReport", "StaticReport", "assess", "check_static"]
