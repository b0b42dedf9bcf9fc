"""``CompareOptions.labels``: the two sides named in every unified diff's ``---``/``+++`` lines,
whichever comparator wrote it, so that a reader can tell them apart when the names are the same
(a published wheel and its rebuild, say)."""

from __future__ import annotations

from reprobuild.compare import CompareOptions, Difference
from tests.compare.helpers import diff
from tests.compare.test_pyc import _pyc
from tests.factories import make_wheel

LABELS = CompareOptions(labels=("published", "rebuilt"))

_METADATA = (
    b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nClassifier: A\nClassifier: B\n\nBody\n"
)
_METADATA_B = (
    b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nClassifier: B\nClassifier: A\n\nBody 2\n"
)


def _headers(difference: Difference | None) -> list[tuple[str, str]]:
    """The ``---`` and ``+++`` lines of every unified diff in the tree."""
    found = []
    for node in [] if difference is None else difference.walk():
        if node.unified_diff:
            lines = node.unified_diff.split("\n")
            found.append((lines[0], lines[1]))
    return found


def _wheels() -> tuple[bytes, bytes]:
    files_a = {
        "demo/__init__.py": b"x = 1\ny = 2\n",
        "demo/data.json": b'{"a": 1, "b": [1, 2]}',
        "demo/blob.bin": bytes(range(256)),
        "demo/__pycache__/greet.cpython.pyc": _pyc(path="/build/a/greet.py"),
        "demo-1.0.dist-info/entry_points.txt": b"[console_scripts]\na = demo:a\nb = demo:b\n",
    }
    files_b = {
        "demo/__init__.py": b"x = 1\n",
        "demo/data.json": b'{"a": 2, "b": [2, 1]}',
        "demo/blob.bin": bytes(reversed(range(256))),
        "demo/__pycache__/greet.cpython.pyc": _pyc(source="def greet():\n    return 2\n"),
        "demo-1.0.dist-info/entry_points.txt": b"[console_scripts]\nb = demo:b\na = demo:a\n",
    }
    return (
        make_wheel(files=files_a, metadata=_METADATA),
        make_wheel(files=files_b, metadata=_METADATA_B, order=None),
    )


def test_every_unified_diff_names_the_sides() -> None:
    a, b = _wheels()
    name = "demo-1.0-py3-none-any.whl"
    headers = _headers(diff(a, b, name, options=LABELS))
    assert len(headers) >= 6, headers
    for old, new in headers:
        assert old.startswith("--- published/"), old
        assert new.startswith("+++ rebuilt/"), new
    assert ("--- published/demo/__init__.py", "+++ rebuilt/demo/__init__.py") in headers


def test_without_labels_the_names_alone() -> None:
    a, b = _wheels()
    headers = _headers(diff(a, b, "demo-1.0-py3-none-any.whl"))
    assert ("--- demo/__init__.py", "+++ demo/__init__.py") in headers
    assert not [h for h in headers if "published" in h[0] or "rebuilt" in h[1]]


def test_comments_call_the_sides_by_their_labels() -> None:
    """'only in a' means nothing to the reader of a verification: it says 'only in published'."""
    a = make_wheel(
        files={"demo/__init__.py": b"x = 1\r\n", "demo/old.py": b"", "demo/t.txt": b"a\r\n"},
        metadata=_METADATA,
    )
    b = make_wheel(
        files={"demo/__init__.py": b"x = 1\r\n", "demo/new.py": b"", "demo/t.txt": b"a\n"},
        metadata=_METADATA,
    )
    name = "demo-1.0-py3-none-any.whl"
    with_labels, without = diff(a, b, name, options=LABELS), diff(a, b, name)
    assert with_labels is not None and without is not None
    labelled = [n.comment or "" for n in with_labels.walk()]
    plain = [n.comment or "" for n in without.walk()]
    assert any(c.startswith("only in published") for c in labelled), labelled
    assert any(c.startswith("only in rebuilt") for c in labelled), labelled
    assert any("1 only in published, 1 only in rebuilt" in c for c in labelled), labelled
    assert any("CRLF line ends in published, 0 in rebuilt" in c for c in labelled), labelled
    assert not any(" in a " in c or "only in a (" in c for c in labelled)
    assert any(c.startswith("only in a (") for c in plain), plain


def test_header_names_are_escaped() -> None:
    """A member name cannot add a line of its own to a unified diff's header."""
    from reprobuild.compare.nodes import labelled

    shown = labelled("pkg/\x1b[31mred\u202e\nforged line.txt", "published")
    assert "\n" not in shown and "\x1b" not in shown and "\u202e" not in shown
    assert shown == "published/pkg/\\x1b[31mred\\u202e\\nforged line.txt"
