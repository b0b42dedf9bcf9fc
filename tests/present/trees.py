"""Difference trees for the presenter tests, built by hand with the dataclass (so these tests
do not depend on any comparator), and a Hypothesis strategy for any tree."""

from __future__ import annotations

from hypothesis import strategies as st

from reprobuild.compare.difference import Category, Difference

__all__ = ["TREES", "differences"]

_INIT_DIFF = "".join(
    f"{line}\n"
    for line in (
        "--- a/demo/__init__.py",
        "+++ b/demo/__init__.py",
        "@@ -1,4 +1,5 @@",
        ' """The demo package."""',
        '-__version__ = "1.0"',
        '-BUILT = "Tue Nov 21 20:13:40 2026"',
        '+__version__ = "1.0"',
        '+BUILT = "Wed Nov 22 08:01:02 2026"',
        '+HOST = "builder-7"',
        " ",
        " def main() -> None:",
    )
)

_METADATA_DIFF = """\
--- a/METADATA
+++ b/METADATA
@@ -1,3 +1,3 @@
 Metadata-Version: 2.1
 Name: demo
-Version: 1.0
+Version: 1.0+local
"""

_WHEEL = Difference(
    source_a="dist/demo-1.0-py3-none-any.whl",
    source_b="rebuilt/demo-1.0-py3-none-any.whl",
    children=(
        Difference(
            source_a="demo/__init__.py",
            source_b="demo/__init__.py",
            category=Category.CONTENT,
            unified_diff=_INIT_DIFF,
        ),
        Difference(
            source_a="demo-1.0.dist-info",
            source_b="demo-1.0.dist-info",
            children=(
                Difference(
                    source_a="demo-1.0.dist-info/METADATA",
                    source_b="demo-1.0.dist-info/METADATA",
                    category=Category.CONTENT,
                    unified_diff=_METADATA_DIFF,
                ),
                Difference(
                    source_a="demo-1.0.dist-info/RECORD",
                    source_b="demo-1.0.dist-info/RECORD",
                    category=Category.METADATA_ORDER,
                    comment="the same rows in a different order",
                ),
            ),
        ),
        Difference(
            source_a="demo/_build_stamp.txt",
            source_b="demo/_build_stamp.txt",
            category=Category.MISSING,
            comment="in a, not in b",
        ),
        Difference(
            source_a="demo/py.typed",
            source_b="demo/py.typed",
            category=Category.ADDED,
            comment="in b, not in a",
        ),
        Difference(
            source_a="member times",
            source_b="member times",
            category=Category.TIMESTAMP,
            comment="12 members: 2023-11-14 22:13:20 vs 1980-01-01 00:00:00",
        ),
    ),
)

_SDIST = Difference(
    source_a="demo-1.0.tar.gz",
    source_b="demo-1.0.rebuilt.tar.gz",
    children=(
        Difference(
            source_a="gzip header",
            source_b="gzip header",
            category=Category.CONTAINER,
            unified_diff="--- a\n+++ b\n@@ -1,2 +1,2 @@\n-mtime: 1700000000\n+mtime: 0\n os: 3\n",
        ),
        Difference(
            source_a="demo-1.0.tar",
            source_b="demo-1.0.rebuilt.tar",
            children=(
                Difference(
                    source_a="demo-1.0/setup.py",
                    source_b="demo-1.0/setup.py",
                    category=Category.OWNERSHIP,
                    comment="uid 1000 (alice) vs 0 ()",
                ),
                Difference(
                    source_a="demo-1.0/setup.py",
                    source_b="demo-1.0/setup.py",
                    category=Category.PERMISSIONS,
                    comment="mode 0664 vs 0644",
                ),
                Difference(
                    source_a="member order",
                    source_b="member order",
                    category=Category.ORDER,
                    unified_diff=(
                        "--- a\n+++ b\n@@ -1,3 +1,3 @@\n demo-1.0/\n"
                        "-demo-1.0/setup.py\n demo-1.0/PKG-INFO\n+demo-1.0/setup.py\n"
                    ),
                ),
            ),
        ),
    ),
)

_HOSTILE = Difference(
    source_a="a/<script>alert('a')</script>.whl",
    source_b='b/"quoted" & <b>bold</b>.whl',
    comment="first line\nsecond line with \x1b[31mANSI\x1b[0m\n",
    children=(
        Difference(
            source_a="evil\u202egnp.py",
            source_b="evil\u202egnp.py",
            category=Category.CONTENT,
            unified_diff=(
                "--- a/evil\u202egnp.py\n"
                "+++ b/evil\u202egnp.py\n"
                "@@ -1,3 +1,3 @@\n"
                "-line one\r\n"
                "+line one\n"
                " \tindented = '<img src=\"https://example.invalid/x.png\">'\n"
                "-zero\u200bwidth\n"
                "+zerowidth\n"
                "\\ No newline at end of file\n"
                "[3 more lines cut by the comparator]\n"
            ),
        ),
        Difference(source_a="", source_b="renamed", category=Category.ADDED),
        Difference(
            source_a="long.txt",
            source_b="long.txt",
            category=Category.CONTENT,
            unified_diff="--- a/long.txt\n+++ b/long.txt\n@@ -1,8 +0,0 @@\n"
            + "".join(f"-line {n}\n" for n in range(1, 9)),
        ),
        Difference(source_a="bare node with no category", source_b="bare node with no category"),
    ),
)

#: name -> tree; each has golden renderings under tests/golden/present/
TREES: dict[str, Difference] = {
    "identical": Difference(source_a="a/demo-1.0.tar.gz", source_b="b/demo-1.0.tar.gz"),
    "wheel": _WHEEL,
    "sdist-inconsequential": _SDIST,
    "hostile": _HOSTILE,
    "excluded-only": Difference(
        source_a="a/demo-1.0-py3-none-any.whl",
        source_b="b/demo-1.0-py3-none-any.whl",
        comment="no differences outside the 8 excluded members",
    ),
}

_names = st.text(max_size=12)
_categories = st.none() | st.sampled_from(Category)
_optional_text = st.none() | st.text(max_size=40)


def differences(max_leaves: int = 12) -> st.SearchStrategy[Difference]:
    """Any tree: any text in names, diffs and comments, any category or none, any shape."""
    leaf = st.builds(
        Difference,
        source_a=_names,
        source_b=_names,
        category=_categories,
        unified_diff=_optional_text,
        comment=_optional_text,
    )

    def extend(children: st.SearchStrategy[Difference]) -> st.SearchStrategy[Difference]:
        return st.builds(
            Difference,
            source_a=_names,
            source_b=_names,
            category=_categories,
            unified_diff=_optional_text,
            comment=_optional_text,
            children=st.lists(children, max_size=4).map(tuple),
        )

    return st.recursive(leaf, extend, max_leaves=max_leaves)
