"""Helpers for the comparison tests: compare two byte strings by name, the set of leaf
categories, and a stable text dump of a difference tree for golden files.

Golden files live in ``tests/golden/compare/``. To write them anew after an intended change of
output, run ``REPROBUILD_REGEN_GOLDEN=1 python -m pytest tests/compare`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

from reprobuild.compare import Category, CompareOptions, Difference, Item, compare

__all__ = ["GOLDEN", "categories", "check_golden", "diff", "dump"]

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "compare"


def diff(
    a: bytes,
    b: bytes,
    name_a: str = "a",
    name_b: str | None = None,
    options: CompareOptions | None = None,
) -> Difference | None:
    """``compare`` of two byte strings named ``name_a`` and ``name_b`` (default: the same)."""
    return compare(Item(name=name_a, data=a), Item(name=name_b or name_a, data=b), options)


def categories(difference: Difference | None) -> set[Category]:
    """The categories of the tree's leaves (empty for None)."""
    return set() if difference is None else set(difference.counts())


def dump(difference: Difference | None) -> str:
    """One line per node (indent, category or ``-``, the sources), its comment after ``#`` and
    its diff after ``|``, then the summary."""
    if difference is None:
        return "no differences\n"
    lines: list[str] = []

    def visit(node: Difference, depth: int) -> None:
        pad = "  " * depth
        category = node.category.value if node.category is not None else "-"
        sources = node.source_a
        if node.source_b != node.source_a:
            sources += f"  ⇄  {node.source_b}"
        lines.append(f"{pad}{category} {sources}".rstrip())
        if node.comment:
            lines.append(f"{pad}  # {node.comment}")
        if node.unified_diff:
            lines.extend(f"{pad}  | {line}".rstrip() for line in node.unified_diff.split("\n"))
        for child in node.children:
            visit(child, depth + 1)

    visit(difference, 0)
    lines.append(f"summary: {difference.summary()}")
    return "\n".join(lines) + "\n"


def check_golden(name: str, difference: Difference | None) -> None:
    """Compare ``dump(difference)`` with ``tests/golden/compare/{name}.txt`` (rewritten instead
    when ``REPROBUILD_REGEN_GOLDEN=1``)."""
    path = GOLDEN / f"{name}.txt"
    text = dump(difference)
    if os.environ.get("REPROBUILD_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}; run with REPROBUILD_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")
