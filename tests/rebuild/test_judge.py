"""The verdict on a rebuild's bytes against the published file's."""

from __future__ import annotations

import time

from reprobuild.rebuild import Verdict
from reprobuild.rebuild.verify import _judge, _Result
from reprobuild.strategy import Recipe
from tests.factories import make_wheel

NAME = "demo-1.0-py3-none-any.whl"


def _verdict(published: bytes, rebuilt: bytes) -> tuple[Verdict, str]:
    result = _judge(
        published,
        NAME,
        rebuilt,
        NAME,
        Recipe(),
        _Result(filename=NAME, digest="", started=time.monotonic()),
    )
    return result.verdict, result.cause


def test_the_same_bytes_are_reproducible() -> None:
    assert _verdict(make_wheel(), make_wheel())[0] is Verdict.REPRODUCIBLE


def test_another_compression_of_the_same_content_is_equivalent() -> None:
    """Another zlib, or another level, deflates the same files to other bytes: nothing that
    gets installed differs."""
    files = {"demo/__init__.py": b"x = 1\n" * 200, "demo/core.py": b"y = 2\n" * 300}
    verdict, cause = _verdict(
        make_wheel(files=files, compress_level=9), make_wheel(files=files, compress_level=1)
    )
    assert verdict is Verdict.EQUIVALENT
    assert cause == "identical after normalization; differs in compression"


def test_other_content_stays_different() -> None:
    files = {"demo/__init__.py": b"x = 1\n"}
    other = {"demo/__init__.py": b"x = 2\n"}
    verdict, _ = _verdict(make_wheel(files=files), make_wheel(files=other, compress_level=1))
    assert verdict is Verdict.DIFFERENT
