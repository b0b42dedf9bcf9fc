"""render_text: the indented tree, the summary, the cap on diff lines, colour only when asked."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given

from reprobuild.compare.difference import Category, Difference
from reprobuild.present import render_text
from tests.present.trees import TREES, differences

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def leaf(
    name: str, category: Category, *, comment: str | None = None, unified_diff: str | None = None
) -> Difference:
    return Difference(
        source_a=name,
        source_b=name,
        category=category,
        comment=comment,
        unified_diff=unified_diff,
    )


def test_equal_names_once_different_names_with_vs() -> None:
    tree = Difference(
        source_a="a.whl",
        source_b="b.whl",
        children=(leaf("x.py", Category.CONTENT, comment="the bytes differ"),),
    )
    assert render_text(tree, colour=False, max_diff_lines=0) == (
        "a.whl vs b.whl\n  x.py [content]\n    # the bytes differ\n1 content (consequential)\n"
    )


def test_identical_is_the_bare_root_and_no_differences() -> None:
    tree = Difference(source_a="a", source_b="b")
    assert render_text(tree, colour=False, max_diff_lines=0) == "a vs b\nno differences\n"


def test_ends_with_the_summary_line() -> None:
    for tree in TREES.values():
        text = render_text(tree, colour=False, max_diff_lines=0)
        assert text.endswith("\n")
        assert text.splitlines()[-1] == tree.summary()


def test_max_diff_lines_caps_each_diff_and_says_so() -> None:
    diff = "".join(f"+{n}\n" for n in range(10))
    tree = leaf("f", Category.CONTENT, unified_diff=diff)
    capped = render_text(tree, colour=False, max_diff_lines=4).splitlines()
    assert capped[1:5] == ["  +0", "  +1", "  +2", "  +3"]
    assert capped[5] == "  [6 more diff lines not shown]"
    uncapped = render_text(tree, colour=False, max_diff_lines=0).splitlines()
    assert len(uncapped) == 1 + 10 + 1
    exact = render_text(tree, colour=False, max_diff_lines=10)
    assert "not shown" not in exact


def test_colour_only_when_asked() -> None:
    tree = TREES["wheel"]
    plain = render_text(tree, colour=False, max_diff_lines=0)
    coloured = render_text(tree, colour=True, max_diff_lines=0)
    assert "\x1b" not in plain
    assert "\x1b[31m" in coloured and "\x1b[32m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_inconsequential_categories_get_their_own_colour() -> None:
    tree = leaf("t", Category.TIMESTAMP, comment="c")
    coloured = render_text(tree, colour=True, max_diff_lines=0)
    assert "\x1b[33m[timestamp]\x1b[0m" in coloured


def test_control_characters_never_reach_the_terminal() -> None:
    tree = Difference(
        source_a="a\x1b]0;pwned\x07",
        source_b="b\u202e",
        comment="\x1b[2J",
        children=(leaf("x\ry", Category.CONTENT, unified_diff="-\x1b[31mred\n+\tok\r\n"),),
    )
    text = render_text(tree, colour=False, max_diff_lines=0)
    assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
    assert "a\\x1b]0;pwned\\x07 vs b\\u202e" in text
    assert "x\\ry [content]" in text
    assert "\t" in text  # tabs in diff lines are layout, kept


@given(differences())
def test_any_tree_renders_without_hidden_characters(tree: Difference) -> None:
    text = render_text(tree, colour=False, max_diff_lines=3)
    assert text.endswith(tree.summary() + "\n")
    hidden = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    assert all(c in "\t\n" or unicodedata.category(c) not in hidden for c in text)
    coloured = render_text(tree, colour=True, max_diff_lines=3)
    assert ANSI.sub("", coloured) == text


def _content(name: str, lines: int) -> Difference:
    body = "\n".join(f"+line {i}" for i in range(lines))
    diff = f"--- a/{name}\n+++ b/{name}\n@@ -0,0 +1 @@\n{body}"
    return leaf(name, Category.CONTENT, unified_diff=diff)


def test_an_excerpt_shows_the_first_lines_of_the_first_differences() -> None:
    from reprobuild.present import render_excerpt

    tree = Difference(
        source_a="x.whl",
        source_b="x.whl",
        children=(
            leaf("m/order", Category.ORDER, comment="another order"),
            _content("m/long.py", 30),
            _content("m/short.py", 1),
            *(_content(f"m/more{i}.py", 1) for i in range(5)),
        ),
    )
    text = render_excerpt(tree, colour=False, max_differences=5, max_diff_lines=20, depth=1)
    lines = text.splitlines()
    assert lines[0] == "  m/long.py [content]"
    assert lines[1:4] == ["    --- a/m/long.py", "    +++ b/m/long.py", "    @@ -0,0 +1 @@"]
    # 33 lines, 20 shown
    assert lines[21] == "    … 13 more lines: --format html or --format json for all"
    assert "m/order" not in text  # inconsequential: not why the verdict is "different"
    assert "    +line 0" in lines and "    +line 16" in lines and "    +line 17" not in lines
    assert [line for line in lines if line.startswith("  m/")] == [
        "  m/long.py [content]",
        "  m/short.py [content]",
        "  m/more0.py [content]",
        "  m/more1.py [content]",
        "  m/more2.py [content]",
    ]
    assert lines[-1] == "  … 2 more differences: --format html or --format json for all"
    assert text.endswith("\n")


def test_an_excerpt_of_inconsequential_differences_is_empty() -> None:
    from reprobuild.present import render_excerpt

    tree = Difference(
        source_a="x.whl",
        source_b="x.whl",
        children=(leaf("m/order", Category.ORDER, comment="another order"),),
    )
    assert render_excerpt(tree, colour=False) == ""
