"""The difference tree: counts, the inconsequential verdict and the one-line summary."""

from __future__ import annotations

from reprobuild.compare import INCONSEQUENTIAL, Category, Difference


def _leaf(category: Category) -> Difference:
    return Difference(source_a="x", source_b="x", category=category)


def test_content_missing_and_added_are_consequential() -> None:
    assert {c for c in Category if c not in INCONSEQUENTIAL} == {
        Category.CONTENT,
        Category.MISSING,
        Category.ADDED,
    }


def test_summary_counts_by_category() -> None:
    tree = Difference(
        source_a="a.whl",
        source_b="b.whl",
        children=(
            _leaf(Category.TIMESTAMP),
            Difference(source_a="m", source_b="m", children=(_leaf(Category.TIMESTAMP),)),
            _leaf(Category.METADATA_ORDER),
        ),
    )
    assert tree.inconsequential
    assert tree.summary() == "2 timestamp, 1 metadata-order (inconsequential)"
    worse = Difference(
        source_a="a", source_b="b", children=(*tree.children, _leaf(Category.CONTENT))
    )
    assert not worse.inconsequential
    assert worse.summary() == "2 timestamp, 1 content, 1 metadata-order (consequential)"
