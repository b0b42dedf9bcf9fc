"""What containers share: folder renames, exclusion, recursion depth."""

from __future__ import annotations

from reprobuild.archive import Member, MemberKind
from reprobuild.compare import Category, CompareOptions
from reprobuild.compare.archives import folder_renames, mode_changes
from tests.compare.helpers import categories, diff
from tests.factories import make_sdist, make_wheel, make_zip


def _members(*names: str) -> list[Member]:
    return [
        Member(name=name, kind=MemberKind.DIR if name.endswith("/") else MemberKind.FILE)
        for name in names
    ]


def test_folder_renames() -> None:
    assert folder_renames(_members("a-1/", "a-1/x"), _members("a-2/", "a-2/x")) == {"a-1": "a-2"}
    assert folder_renames(_members("a-1/x"), _members("a-1/x")) == {}
    # single files are not folders
    assert folder_renames(_members("x.txt"), _members("y.txt")) == {}
    assert folder_renames(
        _members("a/x", "a-1.dist-info/RECORD", "a-1.data/scripts/s"),
        _members("a/x", "a-2.dist-info/RECORD", "a-2.data/scripts/s"),
    ) == {"a-1.dist-info": "a-2.dist-info", "a-1.data": "a-2.data"}
    # two top folders on a side: no rename guessed
    assert folder_renames(_members("a/x", "b/y"), _members("c/x", "d/y")) == {}


def test_mode_changes() -> None:
    assert mode_changes(MemberKind.FILE, 0o644, 0o644) == []
    (change,) = mode_changes(MemberKind.FILE, 0o644, 0o755)
    assert change.category is Category.CONTENT
    (change,) = mode_changes(MemberKind.FILE, 0o644, 0o664)
    assert change.category is Category.PERMISSIONS
    (change,) = mode_changes(MemberKind.DIR, 0o755, 0o644)
    assert change.category is Category.PERMISSIONS  # a folder's x bit is not "executable"
    assert {c.category for c in mode_changes(MemberKind.FILE, 0o644, 0o775)} == {
        Category.CONTENT,
        Category.PERMISSIONS,
    }


def test_max_depth_stops_recursing() -> None:
    a, b = make_sdist(), make_sdist(files={"demo/__init__.py": b"x = 2\n"})
    deep = diff(a, b, "demo-1.0.tar.gz")
    assert deep is not None
    assert {leaf.source_a for leaf in deep.leaves()} == {"demo-1.0/demo/__init__.py"}
    shallow = diff(a, b, "demo-1.0.tar.gz", options=CompareOptions(max_depth=1))
    assert shallow is not None
    (leaf,) = shallow.leaves()
    assert leaf.source_a == "demo-1.0.tar"  # the tar inside, compared as bytes
    assert diff(a, b, "x", options=CompareOptions(max_depth=0)) is not None


def test_everything_excluded() -> None:
    a, b = make_zip({"a.txt": b"1\n"}), make_zip({"a.txt": b"2\n"})
    found = diff(a, b, "x.zip", options=CompareOptions(exclude=("a.txt",)))
    assert found is not None
    assert not found.counts() and found.summary() == "no differences"
    assert found.comment == "no differences outside the 2 excluded members"


def test_layout_only_differences_are_container() -> None:
    """Bytes between members that belong to none: the zip differs, the members do not."""
    a = make_zip({"a.txt": b"1\n"})
    b = b"#!/bin/sh\n" + a  # a prefix, as self-extracting archives have
    found = diff(a, b, "x.zip")
    assert found is not None and categories(found) == {Category.CONTAINER}


def test_a_wheel_with_a_folder_order_change() -> None:
    files = {"a/x.py": b"x\n", "b/y.py": b"y\n"}
    a = make_wheel(files=files, record_order="sorted")
    b = make_wheel(files=files, record_order="sorted", order=["b/y.py"])
    found = diff(a, b, "x.whl")
    assert found is not None and categories(found) == {Category.ORDER}
    (leaf,) = found.leaves()
    assert leaf.source_a == "x.whl › (member order)"
    assert leaf.unified_diff is not None and "+b/y.py" in leaf.unified_diff
