"""Compiled Python: header fields, then code objects when the magic number is this Python's."""

from __future__ import annotations

import importlib._bootstrap_external as bootstrap
import importlib.util
import marshal
import struct

from reprobuild.compare import Category
from reprobuild.compare.pyc import BUILD_PATH_HINT
from tests.compare.helpers import categories, check_golden, diff
from tests.factories import make_wheel

SOURCE = """\
import os


def greet(name):
    return "hello " + name


class Greeter:
    def __call__(self, name):
        return {"hello", name}
"""
MTIME = 1_700_000_000


def _pyc(source: str = SOURCE, path: str = "/build/a/greet.py", mtime: int = MTIME) -> bytes:
    code = compile(source, path, "exec")
    return bytes(bootstrap._code_to_timestamp_pyc(code, mtime, len(source)))  # type: ignore[attr-defined]


def _hash_pyc(source: str = SOURCE, path: str = "/build/a/greet.py") -> bytes:
    code = compile(source, path, "exec")
    digest = importlib.util.source_hash(source.encode())
    return bytes(bootstrap._code_to_hash_pyc(code, digest, checked=True))  # type: ignore[attr-defined]


NAME = "greet/__pycache__/greet.cpython-311.pyc"


def test_the_build_path_in_co_filename() -> None:
    found = diff(_pyc(path="/build/a/greet.py"), _pyc(path="/build/b/greet.py"), NAME)
    assert found is not None
    assert categories(found) == {Category.CONTENT}
    (leaf,) = found.leaves()
    assert leaf.source_a == f"{NAME} › co_filename"
    assert leaf.comment is not None
    assert "'/build/a/greet.py' vs '/build/b/greet.py'" in leaf.comment
    assert BUILD_PATH_HINT in leaf.comment


def test_the_source_mtime_only_is_a_timestamp() -> None:
    found = diff(_pyc(mtime=MTIME), _pyc(mtime=MTIME + 3600), NAME)
    assert found is not None
    assert categories(found) == {Category.TIMESTAMP}
    assert found.inconsequential
    (leaf,) = found.leaves()
    assert leaf.source_a == f"{NAME} › source mtime"


def test_the_source_size_is_content() -> None:
    a = _pyc()
    b = a[:12] + struct.pack("<I", len(SOURCE) + 1) + a[16:]
    found = diff(a, b, NAME)
    assert found is not None
    assert [leaf.source_a for leaf in found.leaves()] == [f"{NAME} › source size"]


def test_timestamp_against_hash_based() -> None:
    found = diff(_pyc(), _hash_pyc(), NAME)
    assert found is not None and categories(found) == {Category.CONTENT}
    (leaf,) = found.leaves()
    assert leaf.comment is not None and leaf.comment.startswith("flags: 0 vs 3")


def test_a_changed_constant_shows_the_disassembly() -> None:
    found = diff(_pyc(), _pyc(SOURCE.replace('"hello "', '"hi "')), NAME)
    assert found is not None and categories(found) == {Category.CONTENT}
    (leaf,) = [leaf for leaf in found.leaves() if leaf.source_a.endswith("› greet")]
    assert leaf.unified_diff is not None
    assert "LOAD_CONST" in leaf.unified_diff and " at 0x" not in leaf.unified_diff


def test_another_python_is_compared_as_bytes() -> None:
    other = (int.from_bytes(importlib.util.MAGIC_NUMBER[:2], "little") - 10).to_bytes(2, "little")
    a = other + _pyc()[2:]
    b = other + _pyc(SOURCE.replace("hello", "hi"))[2:]
    found = diff(a, b, NAME)
    assert found is not None
    (leaf,) = [leaf for leaf in found.leaves() if leaf.source_a == f"{NAME} › (body)"]
    assert leaf.comment is not None and "another Python" in leaf.comment


def test_equal_code_with_other_marshal_bytes() -> None:
    code = compile(SOURCE, "/build/a/greet.py", "exec")
    header = _pyc()[:16]
    a = header + marshal.dumps(code, 4)
    b = header + marshal.dumps(code, 2)  # version 2 writes no reference flags
    assert a != b
    found = diff(a, b, NAME)
    assert found is not None
    (leaf,) = found.leaves()
    assert leaf.source_a == f"{NAME} › (marshal data)"


def test_a_corrupt_body_falls_back() -> None:
    a = _pyc()
    b = a[:16] + b"\xff\xfe garbage"
    found = diff(a, b, NAME)
    assert found is not None and found.comment is not None
    assert found.comment.startswith("not comparable as pyc:")
    assert categories(found) == {Category.CONTENT}


def test_a_pyc_in_a_wheel() -> None:
    a = make_wheel(files={"greet/__init__.py": b"", NAME: _pyc(path="/tmp/x/greet.py")})
    b = make_wheel(files={"greet/__init__.py": b"", NAME: _pyc(path="/tmp/y/greet.py")})
    found = diff(a, b, "greet-1.0-py3-none-any.whl")
    assert found is not None
    assert any(leaf.source_a == f"{NAME} › co_filename" for leaf in found.leaves())


def test_golden_pyc() -> None:
    a = _pyc(path="/build/a/greet.py", mtime=MTIME)
    b = _pyc(path="/build/b/greet.py", mtime=MTIME + 86_400)
    check_golden("pyc", diff(a, b, NAME))
