"""The .dist-info files: RECORD row by row, METADATA/PKG-INFO and WHEEL field by field,
entry_points.txt entry by entry."""

from __future__ import annotations

import email.parser
import email.policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reprobuild.compare import Category, Item
from reprobuild.compare.wheelmeta import ENTRY_POINTS, METADATA, RECORD, WHEEL, _headers
from tests.compare.helpers import categories, check_golden, diff

DIST = "demo-1.0.dist-info"


def _rows(*rows: str) -> bytes:
    return ("\n".join(rows) + "\n").encode()


ROWS = (
    "demo/__init__.py,sha256=AAAA,6",
    "demo/run.py,sha256=BBBB,9",
    f"{DIST}/METADATA,sha256=CCCC,92",
    f"{DIST}/RECORD,,",
)


def test_accepts_by_name() -> None:
    def item(name: str) -> Item:
        return Item(name=name, data=b"")

    assert RECORD.accepts(item(f"{DIST}/RECORD"), item("demo-1.1.dist-info/RECORD"))
    assert not RECORD.accepts(item("demo/RECORD"), item("demo/RECORD"))
    assert METADATA.accepts(item(f"{DIST}/METADATA"), item(f"{DIST}/METADATA"))
    assert METADATA.accepts(item("demo-1.0/PKG-INFO"), item("demo-1.1/PKG-INFO"))
    assert METADATA.accepts(item("src/demo.egg-info/PKG-INFO"), item("src/demo.egg-info/PKG-INFO"))
    assert not METADATA.accepts(item("docs/METADATA"), item("docs/METADATA"))
    assert WHEEL.accepts(item(f"{DIST}/WHEEL"), item(f"{DIST}/WHEEL"))
    assert ENTRY_POINTS.accepts(item(f"{DIST}/entry_points.txt"), item("x/entry_points.txt"))


def test_record_rows_in_another_order() -> None:
    found = diff(_rows(*ROWS), _rows(*reversed(ROWS)), f"{DIST}/RECORD")
    assert found is not None and categories(found) == {Category.METADATA_ORDER}
    (leaf,) = found.leaves()
    assert leaf.source_a == f"{DIST}/RECORD › row order"
    assert leaf.comment == "the same 4 rows in another order"


def test_record_rows_that_differ() -> None:
    changed = list(ROWS)
    changed[1] = "demo/run.py,sha256=ZZZZ,10"
    changed.insert(2, "demo/new.py,sha256=DDDD,1")
    found = diff(_rows(*ROWS), _rows(*changed), f"{DIST}/RECORD")
    assert found is not None and categories(found) == {Category.CONTENT}
    assert found.comment == "rows of 2 files differ (1 changed, 0 only in a, 1 only in b)"
    assert found.unified_diff is not None
    assert found.unified_diff.split("\n")[2:] == [
        "+demo/new.py,sha256=DDDD,1",
        "-demo/run.py,sha256=BBBB,9",
        "+demo/run.py,sha256=ZZZZ,10",
    ]


def test_record_rows_of_a_renamed_dist_info_are_matched() -> None:
    renamed = [row.replace(DIST, "demo-1.1.dist-info") for row in ROWS]
    renamed[2] = "demo-1.1.dist-info/METADATA,sha256=EEEE,92"
    found = diff(_rows(*ROWS), _rows(*renamed), f"{DIST}/RECORD", "demo-1.1.dist-info/RECORD")
    assert found is not None
    assert found.comment == "rows of 1 file differ (1 changed, 0 only in a, 0 only in b)"


def test_record_that_is_not_csv_falls_back_to_text() -> None:
    found = diff(b"a,b\n", b"a,b,c,d\n", f"{DIST}/RECORD")
    assert found is not None and found.comment is not None
    assert found.comment.startswith("not comparable as record:")
    assert categories(found) == {Category.CONTENT}


METADATA_A = b"""\
Metadata-Version: 2.1
Name: demo
Version: 1.0
Summary: A demo
Requires-Dist: numpy>=1.20
Requires-Dist: packaging
Requires-Dist: rich; extra == "cli"
Provides-Extra: cli

A long description.
"""


def test_metadata_multi_valued_field_in_another_order() -> None:
    b = METADATA_A.replace(b"Requires-Dist: numpy>=1.20\nRequires-Dist: packaging\n", b"")
    b = b.replace(
        b"Provides-Extra", b"Requires-Dist: packaging\nRequires-Dist: numpy>=1.20\nProvides-Extra"
    )
    found = diff(METADATA_A, b, f"{DIST}/METADATA")
    assert found is not None and categories(found) == {Category.METADATA_ORDER}
    (leaf,) = found.leaves()
    assert leaf.source_a == f"{DIST}/METADATA › Requires-Dist"


def test_metadata_field_by_field() -> None:
    b = METADATA_A.replace(b"Version: 1.0", b"Version: 1.1").replace(b"A long", b"The long")
    found = diff(METADATA_A, b, f"{DIST}/METADATA")
    assert found is not None and categories(found) == {Category.CONTENT}
    assert [leaf.source_a for leaf in found.leaves()] == [
        f"{DIST}/METADATA › Version",
        f"{DIST}/METADATA › (body)",
    ]
    assert next(found.leaves()).comment == "'1.0' vs '1.1'"


def test_metadata_fields_in_another_order() -> None:
    b = METADATA_A.replace(b"Name: demo\nVersion: 1.0\n", b"Version: 1.0\nName: demo\n")
    assert categories(diff(METADATA_A, b, f"{DIST}/METADATA")) == {Category.METADATA_ORDER}


def test_metadata_written_differently_is_content() -> None:
    b = METADATA_A.replace(b"Name: demo", b"Name:demo")
    found = diff(METADATA_A, b, f"{DIST}/METADATA")
    assert found is not None and categories(found) == {Category.CONTENT}
    assert found.comment is not None and "the same fields, written differently" in found.comment


def test_metadata_with_other_line_ends() -> None:
    b = METADATA_A.replace(b"\n", b"\r\n")
    found = diff(METADATA_A, b, f"{DIST}/METADATA")
    assert found is not None and categories(found) == {Category.CONTENT}
    assert any("line ends" in (leaf.comment or "") for leaf in found.leaves())


def test_wheel_file_tags_in_another_order() -> None:
    head = b"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.42.0)\nRoot-Is-Purelib: true\n"
    a = head + b"Tag: py2-none-any\nTag: py3-none-any\n"
    b = head + b"Tag: py3-none-any\nTag: py2-none-any\n"
    assert categories(diff(a, b, f"{DIST}/WHEEL")) == {Category.METADATA_ORDER}
    c = a.replace(b"0.42.0", b"0.43.0")
    found = diff(a, c, f"{DIST}/WHEEL")
    assert found is not None and categories(found) == {Category.CONTENT}
    assert [leaf.source_a for leaf in found.leaves()] == [f"{DIST}/WHEEL › Generator"]


ENTRY_POINTS_A = b"""\
[console_scripts]
demo = demo.cli:main
demo-admin = demo.admin:main

[demo.plugins]
json = demo.formats:JSON
"""


def test_entry_points_in_another_order() -> None:
    b = b"""\
[demo.plugins]
json = demo.formats:JSON

[console_scripts]
demo-admin = demo.admin:main
demo = demo.cli:main
"""
    found = diff(ENTRY_POINTS_A, b, f"{DIST}/entry_points.txt")
    assert found is not None and categories(found) == {Category.METADATA_ORDER}


def test_entry_points_that_differ() -> None:
    b = ENTRY_POINTS_A.replace(b"demo.cli:main", b"demo.cli:run").replace(b"json =", b"yaml =")
    found = diff(ENTRY_POINTS_A, b, f"{DIST}/entry_points.txt")
    assert found is not None and categories(found) == {Category.CONTENT}
    assert [leaf.source_a for leaf in found.leaves()] == [
        f"{DIST}/entry_points.txt › [console_scripts] demo",
        f"{DIST}/entry_points.txt › [demo.plugins] json",
        f"{DIST}/entry_points.txt › [demo.plugins] yaml",
    ]


def test_entry_points_that_do_not_parse_fall_back() -> None:
    found = diff(b"no section\n", b"still none\n", f"{DIST}/entry_points.txt")
    assert found is not None and found.comment is not None
    assert found.comment.startswith("not comparable as entry-points:")


def test_golden_metadata() -> None:
    b = METADATA_A.replace(b"Version: 1.0", b"Version: 1.0.post1")
    b = b.replace(
        b"Requires-Dist: numpy>=1.20\nRequires-Dist: packaging\n",
        b"Requires-Dist: packaging\nRequires-Dist: numpy>=1.20\n",
    )
    b = b.replace(b"Summary: A demo\n", b"Summary: A demo\nLicense: MIT\n")
    check_golden("metadata", diff(METADATA_A, b, "demo-1.0/PKG-INFO", "demo-1.0.post1/PKG-INFO"))


def test_golden_record() -> None:
    changed = [ROWS[0], "demo/run.py,sha256=ZZZZ,10", *ROWS[2:]][::-1]
    check_golden("record", diff(_rows(*ROWS), _rows(*changed), f"{DIST}/RECORD"))


def test_golden_entry_points() -> None:
    b = ENTRY_POINTS_A.replace(b"demo.cli:main", b"demo.cli:run")
    check_golden("entry_points", diff(ENTRY_POINTS_A, b, f"{DIST}/entry_points.txt"))


def test_golden_wheel_file() -> None:
    head = b"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.42.0)\nRoot-Is-Purelib: false\n"
    a = head + b"Tag: cp311-cp311-manylinux_2_17_x86_64\nTag: cp311-cp311-manylinux2014_x86_64\n"
    b = head.replace(b"0.42.0", b"0.43.0")
    b += b"Tag: cp311-cp311-manylinux2014_x86_64\nTag: cp311-cp311-manylinux_2_17_x86_64\n"
    check_golden("wheel_file", diff(a, b, f"{DIST}/WHEEL"))


# --------------------------------------------------------------------------- the header reader


def _email_headers(text: str) -> tuple[list[tuple[str, str]], str]:
    """What the standard library's email parser reads (the reader it stands in for)."""
    message = email.parser.HeaderParser(policy=email.policy.compat32).parsestr(text)
    payload = message.get_payload()
    return [(k, str(v)) for k, v in message.items()], payload if isinstance(payload, str) else ""


_PIECES = [
    "Name",
    "Requires-Dist",
    "x",
    "é",
    "Foo Bar",
    ":",
    ": ",
    " ",
    "\t",
    "From ",
    "From:",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    "value",
    "\x0c",
    "\u2028",
    "[x]",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_headers_are_read_as_the_email_parser_reads_them(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert _headers(Item(name="PKG-INFO", data=text.encode())) == _email_headers(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Metadata-Version: 2.1\nName: demo\nSummary: one\n  two\n\nbody\n",
        "From someone\nName: demo\n\nbody",
        "Name: demo\nFrom the body\n",
        "Name: demo\nFrom x\nVersion: 1\n\n",
        "  continued first\nName: demo\r\n\r\nbody\r\n",
        ": no name\nName: demo\nbody without a blank line\n",
        "Name:demo\rVersion:\t1\r\rbody",
        "Description: " + "x" * 8190 + "\r\n more\r\n\r\n" + "y\r\n" * 5000,
    ],
)
def test_headers_examples(text: str) -> None:
    assert _headers(Item(name="PKG-INFO", data=text.encode())) == _email_headers(text)
