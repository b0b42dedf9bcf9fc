"""Infer how a published sdist was built from a checkout, for rebuilding it from one.

An sdist records less than a wheel: no ``Generator`` line names its backend. The backend, its
version, the Python and the dependency cut-off come from the release's wheel (built in the same
release run), passed in as ``base``, each with the wheel's evidence (and fitted record), marked
as the wheel's; the wheel's other fields (its clock, time zone, hash seed, how its wheel was
built) are not the sdist's and are not inherited. What the sdist itself tells is read here:

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

__all__ = ["INHERITED", "infer_sdist_recipe"]

#: The fields an sdist's recipe takes from its wheel's (``exclude_newer`` too, for a local
#: sdist with no upload time of its own).
INHERITED = ("requirements", "python", "wanted_python")

#: How the reason of an inherited field's evidence starts.
FROM_WHEEL = "from the wheel: "


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
    evidence = _inherited(base, INHERITED)
    fitted = [f for f in base.fitted if f.field in INHERITED] if base is not None else []
    base = base or Recipe()
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
                value=format_time(clock),
                reason=f"the gzip header was written at {format_time(clock)}",
            )
        )
    cutoff: datetime | None
    if upload_time is not None:
        cutoff = upload_time
        cutoff_reason = f"uploaded {upload_time.isoformat()}"
    elif base.requirements:
        cutoff = base.exclude_newer
        wheel_said = _inherited(base, ("exclude_newer",))
        cutoff_reason = "no upload time (a local file): the wheel's cut-off" + "".join(
            f" ({e.reason.removeprefix(FROM_WHEEL)})" for e in wheel_said
        )
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
    # only the inherited fields come from the wheel's recipe: the rest are the sdist's own
    return Recipe(
        requirements=base.requirements,
        python=base.python,
        wanted_python=base.wanted_python,
        source_date_epoch=epoch,
        build_clock=clock,
        exclude_newer=cutoff,
        umask=umask,
        evidence=tuple(evidence),
        fitted=tuple(fitted),
    )


def _inherited(base: Recipe | None, fields: tuple[str, ...]) -> list[Evidence]:
    """The evidence of ``fields`` in the wheel's recipe ``base``, each reason marked as the
    wheel's; with no wheel, that the project's own requirements and this interpreter are used."""
    if base is None:
        said = {
            "requirements": "no wheel to read the backend from: the project's own build "
            "requirements",
            "python": "no wheel to read the Python from: the interpreter running reprobuild",
        }
        return [Evidence(field=f, value="", reason=said[f]) for f in fields if f in said]
    return [
        replace(e, reason=FROM_WHEEL + e.reason.removeprefix(FROM_WHEEL))
        for e in base.evidence
        if e.field in fields
    ]
