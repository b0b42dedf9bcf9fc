"""The results database keeps each attempt's recipe and difference tree, and reads a database
made before the difference was kept."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from reprobuild.compare.difference import Category, Difference
from reprobuild.rebuild import ArtifactResult, Verdict, Verification
from reprobuild.rebuild.history import list_attempts, record_verification
from reprobuild.strategy import Evidence, Recipe

_TREE = Difference(
    source_a="demo-1.0-py3-none-any.whl",
    source_b="demo-1.0-py3-none-any.whl",
    children=(
        Difference(
            source_a="demo/__init__.py",
            source_b="demo/__init__.py",
            category=Category.CONTENT,
            unified_diff="--- a\n+++ b\n@@ -1 +1 @@\n-x = 1\n+x = 2\n",
        ),
    ),
)


def _verification() -> Verification:
    recipe = Recipe(
        requirements=("hatchling==1.21.0",),
        evidence=(Evidence(field="requirements", value="hatchling==1.21.0", reason="WHEEL"),),
    )
    result = ArtifactResult(
        filename="demo-1.0-py3-none-any.whl",
        verdict=Verdict.DIFFERENT,
        sha256="a" * 64,
        rebuilt_sha256="b" * 64,
        recipe=recipe,
        categories=("content",),
        cause="demo/__init__.py differs",
        difference=_TREE,
        seconds=1.5,
    )
    return Verification(name="demo", version="1.0", sdist=None, results=(result,))


def test_the_recipe_and_the_difference_tree_are_read_back_with_details(tmp_path: Path) -> None:
    db = tmp_path / "results.sqlite3"
    record_verification(db, _verification(), started=datetime(2026, 1, 2, tzinfo=UTC))
    (plain,) = list_attempts(db)
    assert plain.recipe is None and plain.difference is None  # not read unless asked
    (full,) = list_attempts(db, details=True)
    assert full.difference == _TREE
    assert full.recipe is not None and full.recipe["requirements"] == ["hatchling==1.21.0"]


def test_a_database_from_before_the_difference_column_is_read_and_extended(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.executescript(
            "CREATE TABLE attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
            "version TEXT NOT NULL, filename TEXT NOT NULL, verdict TEXT NOT NULL, "
            "cause TEXT NOT NULL, categories TEXT NOT NULL, sha256 TEXT NOT NULL, "
            "rebuilt_sha256 TEXT, override TEXT, recipe TEXT, started TEXT NOT NULL, "
            "seconds REAL NOT NULL, tool_version TEXT NOT NULL);"
            "INSERT INTO attempts (name, version, filename, verdict, cause, categories, sha256, "
            "recipe, started, seconds, tool_version) VALUES ('old', '0.1', 'old-0.1.tar.gz', "
            "'reproducible', '', '[]', '', 'not json', '2020-01-01T00:00:00+00:00', 1.0, '0.0.1')"
        )
    (old,) = list_attempts(db, details=True)
    assert (old.name, old.recipe, old.difference, old.origin) == ("old", None, None, None)
    record_verification(db, _verification(), started=datetime(2026, 1, 2, tzinfo=UTC))
    assert [a.difference for a in list_attempts(db, details=True)] == [None, _TREE]
