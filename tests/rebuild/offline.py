"""Verifying the factories' demo 1.0 offline: the published files given, the rebuild by an
injected rebuilder, no upload time, no sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reprobuild.frontend import Sandbox, SandboxMode
from reprobuild.rebuild import ArtifactResult, Rebuilder, verify_wheel


def verify_demo(
    wheel: Path, sdist: Path, cache: Path, rebuilder: Rebuilder, **more: Any
) -> ArtifactResult:
    """``verify_wheel`` of demo 1.0's ``wheel`` from ``sdist``, rebuilt by ``rebuilder``, with
    ``cache`` as its cache folder; ``more`` are further keywords of ``verify_wheel``."""
    return verify_wheel(
        wheel,
        sdist,
        name="demo",
        version="1.0",
        upload_time=None,
        cache_dir=cache,
        sandbox=Sandbox(mode=SandboxMode.NONE),
        rebuilder=rebuilder,
        **more,
    )
