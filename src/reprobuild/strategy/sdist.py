"""Infer how a published sdist was built from a checkout, for rebuilding it from one.

An sdist records less than a wheel: no ``Generator`` line names its backend. The backend, its
version, the Python and the dependency cut-off come from the release's wheel (built in the same
release run), passed in as ``base``; what the sdist itself tells is read here:

- ``SOURCE_DATE_EPOCH``: one time on every member (told apart from a backend's own default);
- otherwise the members keep the times of the publisher's checkout, which no other checkout
  has, and the gzip header's MTIME is the instant the sdist was written: it is replayed as the
  build clock, so that the header can match even when the member times cannot;
- the umask, from the modes.

Like :func:`reprobuild.strategy.infer_recipe`, the result is a handful of parameters: never a
member's own data.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from reprobuild.archive import Archive, MemberKind
from reprobuild.compare.nodes import format_time
from reprobuild.strategy.infer import BACKEND_DEFAULT_TIMES, shared_epoch, umask_of
from reprobuild.strategy.recipe import Evidence, Recipe

__all__ = ["infer_sdist_recipe"]


def infer_sdist_recipe(
    sdist: Archive,
    *,
    upload_time: datetime | None,
    base: Recipe | None = None,
) -> Recipe:
    """The recipe for rebuilding the published ``sdist`` from a checkout of its project.

    ``base`` is the recipe inferred from the release's wheel: its backend, Python and
    cut-off date are kept (an sdist names none of them); ``upload_time`` is the sdist's own.
    """
    base = base or Recipe()
    evidence = [e for e in base.evidence if e.field in {"requirements", "python", "wanted_python"}]
    files = [m for m in sdist.members if m.kind is MemberKind.FILE]
    epoch, said = shared_epoch(
        files,
        defaults=BACKEND_DEFAULT_TIMES,
        varied=", the publisher's checkout's: no other checkout has them",
    )
    if said is not None:
        evidence.append(said)
    clock: int | None = None
    several_times = len({m.mtime for m in files}) > 1
    if several_times and sdist.gzip is not None and sdist.gzip.mtime:
        clock = sdist.gzip.mtime
        evidence.append(
            Evidence(
                field="build_clock",
                value=str(clock),
                reason=f"the gzip header was written at {format_time(clock)}",
            )
        )
    cutoff: datetime | None
    if upload_time is not None:
        cutoff = upload_time
        cutoff_reason = f"uploaded {upload_time.isoformat()}"
    elif base.requirements:
        cutoff, cutoff_reason = base.exclude_newer, "no upload time (a local file): the wheel's"
    elif epoch is None:
        cutoff = datetime.fromtimestamp(max((m.mtime for m in files), default=0), UTC)
        cutoff_reason = "no upload time (a local file): its newest member time"
    else:
        cutoff = None
        cutoff_reason = "no upload time (a local file), and one time on every member"
    evidence.append(
        Evidence(
            field="exclude_newer",
            value=cutoff.isoformat() if cutoff else "none",
            reason=cutoff_reason,
        )
    )
    umask, said = umask_of(files)
    evidence.append(said)
    return replace(
        base,
        source_date_epoch=epoch,
        build_clock=clock,
        exclude_newer=cutoff,
        umask=umask,
        timezone="UTC",
        universal=False,
        steps=(),
        override=None,
        evidence=tuple(evidence),
    )
