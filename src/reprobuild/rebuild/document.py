"""The JSON document of ``reprobuild verify``: one object per artifact, with its verdict and
its recipe (every read field with its evidence, every fitted one with its tries)."""

from __future__ import annotations

from reprobuild.present import render_json
from reprobuild.rebuild.verify import ArtifactResult, Verification
from reprobuild.report import JSONValue
from reprobuild.strategy import Fitted, Recipe

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.actions import Performed

__all__ = [
    "describe_rebuild",
    "fitted_document",
    "rebuild_document",
    "recipe_document",
    "result_document",
    "verification_document",
]


def rebuild_document(performed: Performed | None) -> dict[str, JSONValue]:
    """Where a rebuild came from: ``built`` here, or found in the ``local`` or the ``remote``
    cache (a claim, not a rebuild), with the action's key and when and where it was built;
    ``built`` with no key when no cache was involved."""
    if performed is None:
        return {"origin": "built", "key": None, "built_at": None, "where": None}
    return {
        "origin": performed.origin,
        "key": performed.key,
        "built_at": performed.result.created,
        "where": performed.result.where,
    }


def describe_rebuild(performed: Performed | None) -> str:
    """:func:`rebuild_document` in words: ``built now`` or ``cache hit (local), built TIME on
    HOST``."""
    if performed is None or performed.origin in ("built", "failed"):
        return "built now"
    return (
        f"cache hit ({performed.origin}), built {performed.result.created} on "
        f"{performed.result.where}"
    )


def fitted_document(fitted: Fitted) -> dict[str, JSONValue]:
    """One fitted field as JSON: the field, the value chosen, the number of tries, what the
    candidates were scored against, and why this value won."""
    return {
        "field": fitted.field,
        "value": fitted.value,
        "tries": fitted.tries,
        "against": fitted.against,
        "reason": fitted.reason,
    }


def recipe_document(recipe: Recipe) -> dict[str, JSONValue]:
    """A recipe as JSON: its fields, the override used (or null), the evidence of what was
    read and, apart from it, what was fitted (``fitted``)."""
    return {
        "requirements": list(recipe.requirements),
        "python": recipe.python,
        "wanted_python": recipe.wanted_python,
        "source_date_epoch": recipe.source_date_epoch,
        "build_clock": recipe.build_clock,
        "closing_clock": recipe.closing_clock,
        "dist_info_clock": recipe.dist_info_clock,
        "exclude_newer": recipe.exclude_newer.isoformat() if recipe.exclude_newer else None,
        "umask": f"{recipe.umask:03o}",
        "timezone": recipe.timezone,
        "universal": recipe.universal,
        "setup_py": recipe.setup_py,
        "hash_seed": recipe.hash_seed,
        "keep_egg_info": recipe.keep_egg_info,
        "sources_time": recipe.sources_time,
        "normalized": recipe.normalized,
        "steps": [step.describe() for step in recipe.steps],
        "override": recipe.override,
        "evidence": [
            {"field": e.field, "value": e.value, "reason": e.reason} for e in recipe.evidence
        ],
        "fitted": [fitted_document(f) for f in recipe.fitted],
    }


def result_document(result: ArtifactResult) -> dict[str, JSONValue]:
    """One artifact's verdict as JSON."""
    return {
        "filename": result.filename,
        "verdict": result.verdict.value,
        # the verdict with what it rests on besides reading: fitted fields, steps
        "verdict_text": result.verdict_text,
        "with_steps": list(result.steps),
        "sha256": result.sha256,
        "rebuilt_filename": result.rebuilt_filename,
        "rebuilt_sha256": result.rebuilt_sha256,
        "categories": list(result.categories),
        "cause": result.cause or None,
        "override_used": bool(result.recipe and result.recipe.override),
        "recipe": recipe_document(result.recipe) if result.recipe else None,
        "difference": render_json(result.difference) if result.difference else None,
        "log_tail": result.log_tail or None,
        "contained": list(result.contained),
        "seconds": result.seconds,
        "rebuild": rebuild_document(result.rebuild) if result.rebuilt_sha256 else None,
    }


def verification_document(verification: Verification) -> dict[str, JSONValue]:
    """A release's results as the body of a JSON document (the envelope is added by the caller)."""
    return {
        "name": verification.name,
        "version": verification.version,
        "sdist": verification.sdist,
        "reproducible": verification.reproducible,
        "sandbox": dict(verification.sandbox) or None,
        "artifacts": [result_document(r) for r in verification.results],
    }
