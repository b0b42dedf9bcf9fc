"""What makes the rebuilt files a verification judges: the extension point of ``verify``.

A :class:`Rebuilder` takes the :class:`~reprobuild.build.BuildSpec` a recipe turned into and
builds it into ``spec.outdir``: the sdist, then (from a project folder or an sdist) the wheel.
The default is :func:`reprobuild.build.build`, the real build in the sandbox the spec names.
Tests hand :func:`reprobuild.rebuild.verify_wheel` one that writes prepared files; a cache can
hand it one that returns a build it has already seen.
"""

from __future__ import annotations

from typing import Protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.build import BuildResult, BuildSpec, Progress

__all__ = ["Rebuilder"]


class Rebuilder(Protocol):
    """Builds ``spec`` and returns what it made (``BuildResult.paths``, in ``spec.outdir``).

    A failed build raises :class:`~reprobuild.errors.BuildError` (a ``build-failed`` verdict,
    with its cause and log tail) or :class:`~reprobuild.errors.ProjectError` (the project
    cannot be built as it is); the verification judges whatever file the result names.
    """

    def __call__(self, spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult: ...
