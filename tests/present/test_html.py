"""render_html: one self-contained page that parses cleanly, reaches nothing outside itself,
escapes everything, marks inconsequential categories, and shows diffs side by side."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from reprobuild.compare.difference import INCONSEQUENTIAL, Category, Difference
from reprobuild.present import CATEGORY_DESCRIPTIONS, render_html
from tests.present.htmlcheck import assert_self_contained, parse
from tests.present.trees import TREES, differences


@pytest.mark.parametrize("name", sorted(TREES))
def test_parses_cleanly_and_reaches_nothing_outside(name: str) -> None:
    page = render_html(TREES[name])
    assert_self_contained(parse(page))
    if name != "hostile":  # the hostile tree holds a URL as text, escaped
        assert "http://" not in page and "https://" not in page
    assert "src=" not in page.replace("src=&quot;", "")  # only as escaped text


@settings(max_examples=50)
@given(differences())
def test_any_tree_gives_a_clean_self_contained_page(tree: Difference) -> None:
    assert_self_contained(parse(render_html(tree)))


def test_everything_is_escaped() -> None:
    tree = TREES["hostile"]
    parser = parse(render_html(tree))
    text = "".join(parser.text)
    # names come back as text, not markup
    assert "a/<script>alert('a')</script>.whl" in text
    assert 'b/"quoted" & <b>bold</b>.whl' in text
    assert """<img src="https://example.invalid/x.png">""" in text
    # invisible and control characters are shown, not hidden
    assert "evil\\u202egnp.py" in text and "\u202e" not in text
    assert "\\x1b[31mANSI" in text and "\x1b" not in text
    assert "line one\\r" in text


def test_one_node_per_difference() -> None:
    tree = TREES["wheel"]
    parser = parse(render_html(tree))
    nodes = [attrs for _, attrs in parser.tags if "node" in (attrs.get("class") or "").split()]
    assert len(nodes) == sum(1 for _ in tree.walk())
    tables = [tag for tag, attrs in parser.tags if attrs.get("class") == "sbs"]
    assert len(tables) == sum(1 for n in tree.walk() if n.unified_diff is not None)


def test_side_by_side_removed_left_added_right() -> None:
    tree = Difference(
        source_a="f",
        source_b="f",
        category=Category.CONTENT,
        unified_diff="--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n keep\n-old\n+new\n",
    )
    page = render_html(tree)
    assert '<td class="del left-text">old</td><td class="num">2</td>' in page
    assert '<td class="add right-text">new</td>' in page
    assert '<td class="ctx left-text">keep</td>' in page


def test_legend_lists_every_category_and_marks_the_inconsequential() -> None:
    page = render_html(TREES["identical"])
    assert set(CATEGORY_DESCRIPTIONS) == set(Category)
    for category in Category:
        kind = "inconsequential" if category in INCONSEQUENTIAL else "consequential"
        assert f'<span class="badge {kind} cat-{category.value}' in page
        assert CATEGORY_DESCRIPTIONS[category] in page


def test_inconsequential_leaves_say_so_and_start_closed() -> None:
    tree = TREES["sdist-inconsequential"]
    page = render_html(tree)
    assert page.count('<span class="inc-note">inconsequential</span>') == sum(
        1 for n in tree.leaves() if n.category in INCONSEQUENTIAL
    )
    assert '<details class="node only-inc">' in page  # closed: no "open"
    assert '<details class="node" open>' in page  # the root is always open
    assert '<p class="verdict inconsequential">' in page


def test_consequential_subtrees_start_open_the_others_closed() -> None:
    tree = TREES["wheel"]
    page = render_html(tree)
    with_body = [n for n in tree.walk() if n.children or n.comment or n.unified_diff]
    assert page.count("<details") == len(with_body)
    assert page.count(" open>") == sum(1 for n in with_body if not n.inconsequential)
    assert page.count('<details class="node only-inc">') == 2  # RECORD order, member times
