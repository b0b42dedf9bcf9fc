"""The JSON document of ``reprobuild diff --format json``, and reading it back.

::

    {
      "schema_version": 1,
      "tool": {"name": "reprobuild", "version": "…"},
      "command": "diff",
      "different": true,
      "difference": {
        "source_a": "a.whl", "source_b": "b.whl",
        "category": null, "unified_diff": null, "comment": null,
        "children": [
          {"source_a": "demo/__init__.py", "source_b": "demo/__init__.py",
           "category": "content", "unified_diff": "--- …", "comment": null, "children": []}
        ]
      },
      "summary": {
        "counts": {"timestamp": 0, "order": 0, …, "content": 1, "missing": 0, "added": 0},
        "inconsequential": false,
        "text": "1 content (consequential)"
      }
    }

Every node carries all six keys; ``category`` is one of the :class:`Category` values or null;
``unified_diff`` and ``comment`` are strings or null. ``counts`` lists every category, in the
enum's order, zero or not. ``different`` is true when any node has a category: false for two
identical inputs (a bare root) and for inputs that differ only in what was excluded (a root
with a comment). ``different`` and ``summary`` are derived from the tree and ignored when
reading.

``load_json(render_json(d)) == d`` for every tree ``d``; :func:`load_json` checks the document
and names the first bad field with its path (``difference.children[2].category``).
"""

from __future__ import annotations

from collections.abc import Mapping

from reprobuild.compare.difference import Category, Difference
from reprobuild.errors import ReprobuildError
from reprobuild.report import SCHEMA_VERSION, JSONValue, envelope

__all__ = ["COMMAND", "DocumentError", "load_json", "render_json"]

#: The ``command`` field of the document.
COMMAND = "diff"

_CATEGORIES = {category.value: category for category in Category}


class DocumentError(ReprobuildError):
    """A JSON document is not a ``reprobuild diff`` document this version can read."""


def _node(diff: Difference) -> dict[str, JSONValue]:
    return {
        "source_a": diff.source_a,
        "source_b": diff.source_b,
        "category": diff.category.value if diff.category is not None else None,
        "unified_diff": diff.unified_diff,
        "comment": diff.comment,
        "children": [_node(child) for child in diff.children],
    }


def render_json(diff: Difference) -> dict[str, JSONValue]:
    """The document for ``diff`` (see the module's docstring), ready for ``json.dump``."""
    counts = diff.counts()
    summary: dict[str, JSONValue] = {
        "counts": {category.value: counts.get(category, 0) for category in Category},
        "inconsequential": diff.inconsequential,
        "text": diff.summary(),
    }
    return envelope(
        COMMAND,
        {"different": bool(counts), "difference": _node(diff), "summary": summary},
    )


def _optional_str(node: Mapping[str, object], key: str, where: str) -> str | None:
    value = node.get(key)
    if value is None or isinstance(value, str):
        return value
    raise DocumentError(f"{where}.{key}: expected a string or null, got {_kind(value)}")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _load_node(raw: object, where: str) -> Difference:
    if not isinstance(raw, Mapping):
        raise DocumentError(f"{where}: expected an object, got {_kind(raw)}")
    names: list[str] = []
    for key in ("source_a", "source_b"):
        value = raw.get(key)
        if not isinstance(value, str):
            raise DocumentError(f"{where}.{key}: expected a string, got {_kind(value)}")
        names.append(value)
    category_value = raw.get("category")
    category: Category | None = None
    if category_value is not None:
        if not isinstance(category_value, str) or category_value not in _CATEGORIES:
            raise DocumentError(
                f"{where}.category: {category_value!r} is not a category "
                f"(one of: {', '.join(_CATEGORIES)})"
            )
        category = _CATEGORIES[category_value]
    children_value = raw.get("children", [])
    if not isinstance(children_value, list):
        raise DocumentError(f"{where}.children: expected a list, got {_kind(children_value)}")
    return Difference(
        source_a=names[0],
        source_b=names[1],
        category=category,
        unified_diff=_optional_str(raw, "unified_diff", where),
        comment=_optional_str(raw, "comment", where),
        children=tuple(
            _load_node(child, f"{where}.children[{index}]")
            for index, child in enumerate(children_value)
        ),
    )


def load_json(doc: Mapping[str, JSONValue]) -> Difference:
    """The tree of a document made by :func:`render_json` (e.g. parsed by ``json.load``).

    Raises :class:`DocumentError` for anything else: another command's document, a newer
    ``schema_version``, or a field of the wrong type.
    """
    raw: object = doc
    if not isinstance(raw, Mapping):
        raise DocumentError(f"expected a JSON object, got {_kind(raw)}")
    version = raw.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise DocumentError(
            "schema_version: missing or not a whole number",
            hint="is this a document written by 'reprobuild diff --format json'?",
        )
    if version != SCHEMA_VERSION:
        raise DocumentError(
            f"schema_version {version} is not {SCHEMA_VERSION}, the version this reprobuild reads",
            hint="read it with the reprobuild version that wrote it (see the document's 'tool')",
        )
    command = raw.get("command")
    if command != COMMAND:
        raise DocumentError(
            f"command: expected {COMMAND!r}, got {command!r}",
            hint="this is the document of another reprobuild command",
        )
    if "difference" not in raw:
        raise DocumentError("difference: missing")
    return _load_node(raw["difference"], "difference")
