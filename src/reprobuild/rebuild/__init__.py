"""Rebuilding published releases and judging them against what was published."""

from __future__ import annotations

from reprobuild.rebuild.rebuilder import Rebuilder
from reprobuild.rebuild.verify import (
    ArtifactResult,
    Verdict,
    Verification,
    explain,
    verify_release,
    verify_sdist,
    verify_wheel,
)

__all__ = [
    "ArtifactResult",
    "Rebuilder",
    "Verdict",
    "Verification",
    "explain",
    "verify_release",
    "verify_sdist",
    "verify_wheel",
]
