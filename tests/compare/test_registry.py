"""The registry: every comparator once, specific before generic, the byte comparison last."""

from __future__ import annotations

from reprobuild.compare import Item, compare, default_registry
from reprobuild.compare.binary import BYTES
from reprobuild.compare.registry import REGISTRY


def test_the_default_registry_is_the_registry() -> None:
    assert default_registry() is REGISTRY


def test_names_are_unique_and_bytes_is_last() -> None:
    names = [comparator.name for comparator in REGISTRY]
    assert len(names) == len(set(names))
    assert REGISTRY[-1] is BYTES
    assert names.index("record") < names.index("text")
    assert names.index("metadata") < names.index("text")
    assert names.index("json") < names.index("text")
    assert names.index("pyc") < names.index("bytes")
    assert names.index("gzip") < names.index("tar")


def test_the_first_that_accepts_compares() -> None:
    def item(name: str, data: bytes) -> Item:
        return Item(name=name, data=data)

    def first(name: str, data: bytes) -> str:
        a = item(name, data)
        return next(c.name for c in REGISTRY if c.accepts(a, a))

    assert first("demo-1.0.dist-info/RECORD", b"x,,\n") == "record"
    assert first("demo-1.0.dist-info/METADATA", b"Name: x\n") == "metadata"
    assert first("demo-1.0/PKG-INFO", b"Name: x\n") == "metadata"
    assert first("demo-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n") == "wheel-file"
    assert first("demo-1.0.dist-info/entry_points.txt", b"[x]\n") == "entry-points"
    assert first("x.pyc", bytes(20)) == "pyc"
    assert first("x.bin", b"PK\x03\x04rest") == "zip"
    assert first("x.bin", b"\x1f\x8brest") == "gzip"
    assert first("x.bin", b"BZh9rest") == "bzip2"
    assert first("x.bin", b"\xfd7zXZ\x00rest") == "xz"
    assert first("x.json", b"{}") == "json"
    assert first("x.txt", b"text") == "text"
    assert first("x.bin", b"\x00\x01") == "bytes"


def test_a_registry_can_be_given() -> None:
    found = compare(
        Item(name="a.txt", data=b"a\n"), Item(name="a.txt", data=b"b\n"), registry=[BYTES]
    )
    assert found is not None and found.unified_diff is not None
    assert "00000000:" in found.unified_diff
