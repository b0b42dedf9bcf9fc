"""Rebuild strategies: a :class:`Recipe` inferred from published files, with its evidence, and
the recipe override files for what no artifact records."""

from __future__ import annotations

from reprobuild.strategy.infer import (
    BACKEND_DEFAULT_TIMES,
    PYTHON_RELEASES,
    Generator,
    infer_recipe,
    is_pure,
    parse_generator,
)
from reprobuild.strategy.overrides import Override, find_override, parse_overrides
from reprobuild.strategy.recipe import Evidence, Fitted, GzipStep, Recipe, gzip_bytes
from reprobuild.strategy.sdist import infer_sdist_recipe
from reprobuild.strategy.tags import named_python, python2_only

__all__ = [
    "BACKEND_DEFAULT_TIMES",
    "PYTHON_RELEASES",
    "Evidence",
    "Fitted",
    "Generator",
    "GzipStep",
    "Override",
    "Recipe",
    "find_override",
    "gzip_bytes",
    "infer_recipe",
    "infer_sdist_recipe",
    "is_pure",
    "named_python",
    "parse_generator",
    "parse_overrides",
    "python2_only",
]
