"""Two folders read into memory: missing, added and differing files, exclusions."""

from __future__ import annotations

import json

from reprobuild.compare import Category, CompareOptions
from reprobuild.compare.tree import compare_trees
from tests.compare.helpers import check_golden
from tests.factories import make_wheel

A = {
    "demo/__init__.py": b"x = 1\n",
    "demo/data.json": json.dumps({"tags": ["a", "b", "c"]}).encode(),
    "demo/old.txt": b"old\n",
    "build.log": b"built at 12:00\n",
}
B = {
    "demo/__init__.py": b"x = 2\n",
    "demo/data.json": json.dumps({"tags": ["c", "a", "b"]}).encode(),
    "demo/new.txt": b"new\n",
    "build.log": b"built at 12:05\n",
}


def test_equal_trees() -> None:
    assert compare_trees(A, dict(A), name_a="left", name_b="right") is None
    assert compare_trees({}, {}, name_a="left", name_b="right") is None


def test_missing_added_and_changed() -> None:
    found = compare_trees(A, B, name_a="left", name_b="right")
    assert found is not None
    assert (found.source_a, found.source_b) == ("left", "right")
    assert [(leaf.source_a, leaf.category) for leaf in found.leaves()] == [
        ("build.log", Category.CONTENT),
        ("demo/__init__.py", Category.CONTENT),
        ("demo/data.json › $.tags", Category.METADATA_ORDER),
        ("demo/new.txt", Category.ADDED),
        ("demo/old.txt", Category.MISSING),
    ]


def test_exclusions() -> None:
    options = CompareOptions(exclude=("*.log", "demo/*.txt", "__init__.py"))
    found = compare_trees(A, B, options, name_a="left", name_b="right")
    assert found is not None
    assert found.counts() == {Category.METADATA_ORDER: 1}
    assert found.inconsequential


def test_archives_in_trees_are_opened() -> None:
    a = {"dist/demo-1.0-py3-none-any.whl": make_wheel(mtime=(2024, 1, 1, 0, 0, 0))}
    b = {"dist/demo-1.0-py3-none-any.whl": make_wheel(mtime=(2024, 1, 2, 0, 0, 0))}
    found = compare_trees(a, b, name_a="one", name_b="two")
    assert found is not None and set(found.counts()) == {Category.TIMESTAMP}


def test_golden_tree() -> None:
    check_golden("tree", compare_trees(A, B, name_a="build-1/", name_b="build-2/"))
