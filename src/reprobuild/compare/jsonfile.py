"""JSON documents, value by value.

A list that holds the same elements in another order (a conda package's
``info/test/test_time_dependencies.json``, written from a set) is a ``metadata-order`` leaf at
its JSON path, and so is an object whose keys come in another order: JSON readers do not see
either. Any other change is one ``content`` leaf with a unified diff of the two documents
pretty-printed (what only moved is shown in a's order), its comment naming the paths that
differ. Two documents that hold the same value, keys and lists in the same order, differ in
their formatting only: that is ``content`` too, since the bytes that get installed differ,
with a diff of the text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from reprobuild.compare import Context, Item
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import cut_note, group, join_comments, leaf, sub, unified
from reprobuild.compare.text import text_difference

__all__ = ["JSON", "JsonComparator", "json_difference"]

#: JSON values as ``json.loads`` returns them.
JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PATHS_SHOWN = 5


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


def _canonical(value: JsonValue) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _same(a: JsonValue, b: JsonValue) -> bool:
    """Equal as JSON values (object key order ignored, ``1`` and ``1.0`` told apart)."""
    return type(a) is type(b) and (a == b or _canonical(a) == _canonical(b))


@dataclass(slots=True)
class _Walk:
    """What a walk of two documents found: reordered lists and objects, and changed paths."""

    reordered: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def visit(self, a: JsonValue, b: JsonValue, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            keys_a, keys_b = list(a), list(b)
            for key in keys_a:
                if key in b:
                    self.visit(a[key], b[key], _key_path(path, key))
                else:
                    self.changed.append(_key_path(path, key))
            self.changed.extend(_key_path(path, key) for key in keys_b if key not in a)
            common_a = [key for key in keys_a if key in b]
            common_b = [key for key in keys_b if key in a]
            if common_a != common_b:
                self.reordered.append(("keys", path, common_a, common_b))
            return
        if isinstance(a, list) and isinstance(b, list):
            shown_a, shown_b = [_canonical(x) for x in a], [_canonical(x) for x in b]
            if shown_a != shown_b and Counter(shown_a) == Counter(shown_b):
                self.reordered.append(("elements", path, shown_a, shown_b))
            elif len(a) == len(b):  # element by element (only key order, when shown equal)
                for index, (x, y) in enumerate(zip(a, b, strict=True)):
                    self.visit(x, y, f"{path}[{index}]")
            else:
                self.changed.append(path)
            return
        if not _same(a, b):
            self.changed.append(path)


def _aligned(a: JsonValue, b: JsonValue) -> JsonValue:
    """``b`` with its lists that hold a's elements in another order, and its objects' keys, put
    in a's order: a diff of a against it shows what changed, not what moved."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = [key for key in a if key in b] + [key for key in b if key not in a]
        return {key: _aligned(a[key], b[key]) if key in a else b[key] for key in keys}
    if isinstance(a, list) and isinstance(b, list):
        if Counter(map(_canonical, a)) == Counter(map(_canonical, b)):
            return a
        if len(a) == len(b):
            return [_aligned(x, y) for x, y in zip(a, b, strict=True)]
    return b


def _pretty(value: JsonValue) -> list[str]:
    return json.dumps(value, indent=2, ensure_ascii=False).split("\n")


def json_difference(
    a: Item,
    b: Item,
    doc_a: JsonValue,
    doc_b: JsonValue,
    *,
    max_lines: int,
    labels: tuple[str, str] = ("", ""),
) -> Difference | None:
    """The difference between two parsed documents read from ``a`` and ``b``."""
    walk = _Walk()
    walk.visit(doc_a, doc_b, "$")
    children: list[Difference] = []
    if walk.changed:
        diff, cut = unified(
            _pretty(doc_a),
            _pretty(_aligned(doc_a, doc_b)),
            name_a=a.name,
            name_b=b.name,
            max_lines=max_lines,
            labels=labels,
        )
        paths = ", ".join(walk.changed[:_PATHS_SHOWN])
        more = len(walk.changed) - _PATHS_SHOWN
        if more > 0:
            paths += f" and {more} more"
        children.append(
            leaf(
                a.name,
                b.name,
                Category.CONTENT,
                comment=join_comments(f"differs at {paths}", cut_note(cut)),
                unified_diff=diff or None,
            )
        )
    for what, path, shown_a, shown_b in walk.reordered:
        diff, cut = unified(
            shown_a, shown_b, name_a=a.name, name_b=b.name, max_lines=max_lines, labels=labels
        )
        noun = "object keys" if what == "keys" else "list elements"
        children.append(
            leaf(
                sub(a.name, path),
                sub(b.name, path),
                Category.METADATA_ORDER,
                comment=join_comments(
                    f"the same {len(shown_a)} {noun} in another order", cut_note(cut)
                ),
                unified_diff=diff or None,
            )
        )
    if not children:
        return text_difference(
            a.name,
            b.name,
            a.content.decode("utf-8"),
            b.content.decode("utf-8"),
            max_lines=max_lines,
            comment="the same JSON value, formatted differently",
            labels=labels,
        )
    return group(a.name, b.name, children)


@dataclass(frozen=True, slots=True)
class JsonComparator:
    """``*.json`` files, parsed."""

    name: str = "json"

    def accepts(self, a: Item, b: Item) -> bool:
        return a.basename.endswith(".json") and b.basename.endswith(".json")

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        try:
            doc_a = json.loads(a.content.decode("utf-8"))
            doc_b = json.loads(b.content.decode("utf-8"))
            return json_difference(
                a,
                b,
                doc_a,
                doc_b,
                max_lines=context.options.max_diff_lines,
                labels=context.options.labels,
            )
        except RecursionError:
            raise ValueError("JSON nested too deeply to compare") from None


JSON = JsonComparator()
