"""``reprobuild vary``: find what makes a build nondeterministic, and say how to fix it.

The project is built the way its maintainer's own build runs (the backend's plain output, no
normalization, SOURCE_DATE_EPOCH unset) in one fixed environment, the *control*, and once with
every variation at once, the *experiment*. A difference is then attributed to the smallest sets
of variations that cause it, trying first the variations the difference points to, and halving
the others (:mod:`reprobuild.vary.attribute`), and explained with a fix from a catalogue of
known causes (:mod:`reprobuild.vary.fixes`). Whether an artifact is random on its own is told
by two builds that should agree (:mod:`reprobuild.vary.run`).

The variations (:mod:`reprobuild.vary.variations`) are pure ``BuildSpec -> BuildSpec``
transforms: the clock, the build path, TMPDIR, the umask, the time zone, the locale,
PYTHONHASHSEED, the source files' times, their order in a folder, the user and HOME, the host
name, the CPU count, and extra environment variables.
"""

from __future__ import annotations

from reprobuild.vary.attribute import Attribution, Culprit, attribute
from reprobuild.vary.document import render_html, render_json, render_text
from reprobuild.vary.fixes import RULES, Evidence, fixes_for
from reprobuild.vary.run import (
    ArtifactFinding,
    Builder,
    BuildRun,
    Resolver,
    VariationStatus,
    VaryReport,
    parallel_builder,
    serial_builder,
    vary,
)
from reprobuild.vary.variations import (
    VARY_ROOT,
    Variation,
    control_spec,
    default_variations,
    select,
)

__all__ = [
    "RULES",
    "VARY_ROOT",
    "ArtifactFinding",
    "Attribution",
    "BuildRun",
    "Builder",
    "Culprit",
    "Evidence",
    "Resolver",
    "Variation",
    "VariationStatus",
    "VaryReport",
    "attribute",
    "control_spec",
    "default_variations",
    "fixes_for",
    "parallel_builder",
    "render_html",
    "render_json",
    "render_text",
    "select",
    "serial_builder",
    "vary",
]
