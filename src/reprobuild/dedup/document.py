"""``reprobuild dedup``'s report as a JSON document and as text; the rules as a list.

The JSON document is the report's full form: every package with its digest at each level,
every level's groups with their savings, and every comparison with every member that differs.
The text names the groups of more than one package and shows, for each comparison, the
differing members by class and rule (the first few of each).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii as _quote
from typing import cast

from reprobuild._types import JSONValue
from reprobuild.dedup.groups import Comparison, DedupReport, Explainer, MemberDifference
from reprobuild.dedup.model import Level, Package
from reprobuild.dedup.rules import RULES
from reprobuild.report import envelope

__all__ = [
    "iter_report_json",
    "iter_text",
    "lazy_document",
    "render_rules_text",
    "render_text",
    "report_document",
    "rules_document",
]


def _member(found: MemberDifference) -> dict[str, JSONValue]:
    doc: dict[str, JSONValue] = {
        "path": found.path,
        "class": found.member_class.value,
        "category": found.category.value,
        "rule": found.rule,
        "comment": found.comment,
    }
    if found.difference is not None:
        diffs = [n.unified_diff for n in found.difference.walk() if n.unified_diff]
        doc["diff"] = diffs[0] if diffs else None
    return doc


def _comparison(found: Comparison) -> dict[str, JSONValue]:
    return {
        "a": found.a,
        "b": found.b,
        "level": found.level.value,
        "members": [_member(m) for m in found.members],
    }


def _explainer(explainer: Explainer | None) -> Explainer:
    def unread(path: str) -> Package:
        raise KeyError(path)

    return explainer if explainer is not None else Explainer(unread)


def _level_parts(
    report: DedupReport, explainer: Explainer, *, lazy: bool
) -> list[dict[str, object]]:
    levels: list[dict[str, object]] = []
    for result in report.levels:
        levels.append(
            {
                "level": result.level.value,
                "groups": result.count,
                "merged_groups": len(result.merged),
                "bytes_saved": result.bytes_saved,
                "downloads_saved": result.downloads_saved,
                "group_list": [
                    {
                        "digest": g.digest,
                        "packages": list(g.packages),
                        "bytes_saved": g.bytes_saved,
                        "downloads_saved": g.downloads_saved,
                        "apart_at_previous_level": _comparisons(explainer.why_apart(g), lazy),
                    }
                    for g in result.merged
                ],
            }
        )
    return levels


def _comparisons(found: Iterator[Comparison], lazy: bool) -> object:
    made = (_comparison(c) for c in found)
    return made if lazy else list(made)


def _document(report: DedupReport, explainer: Explainer | None, *, lazy: bool) -> dict[str, object]:
    explain = _explainer(explainer)
    packages = (
        {
            "path": p.path,
            "format": p.format,
            "identity": p.identity,
            "size": p.size,
            "sha256": p.sha256,
            "members": p.members,
            "member_bytes": p.member_bytes,
            "digests": {level.value: digest for level, digest in p.digests},
        }
        for p in report.packages
    )
    body: dict[str, object] = {
        "packages": packages if lazy else list(packages),
        "levels": _level_parts(report, explain, lazy=lazy),
        "apart": _comparisons(explain.apart(report), lazy),
        "store": {
            "member_bytes": report.member_bytes,
            "distinct_member_bytes": report.distinct_member_bytes,
        },
    }
    head = envelope("dedup", {})
    return {**head, **body}


def report_document(
    report: DedupReport, explainer: Explainer | None = None
) -> dict[str, JSONValue]:
    """The ``--format json`` document of ``report``, whole; its comparisons are made by
    ``explainer`` when the report does not hold them."""
    return cast("dict[str, JSONValue]", _document(report, explainer, lazy=False))


def lazy_document(report: DedupReport, explainer: Explainer | None = None) -> dict[str, object]:
    """:func:`report_document` with its packages and comparisons as iterators, each made when
    it is read (for :func:`iter_report_json` and the HTML page)."""
    return _document(report, explainer, lazy=True)


def iter_report_json(
    report: DedupReport,
    explainer: Explainer | None = None,
    *,
    more: dict[str, JSONValue] | None = None,
) -> Iterator[str]:
    """The text of :func:`report_document` (with the keys of ``more`` added at its end), as
    ``json.dumps(indent=2)`` writes it, piece by piece: each package and each comparison is
    made, written and let go in turn, so that a report of any number of them is never held
    whole."""
    yield from _stream({**lazy_document(report, explainer), **(more or {})}, "")
    yield "\n"


def _stream(value: object, indent: str) -> Iterator[str]:
    lazy = isinstance(value, Iterator) or (isinstance(value, dict | list) and _is_lazy(value))
    if not lazy:
        parts: list[str] = []
        _plain(value, indent, parts)
        yield "".join(parts)
        return
    inner = indent + "  "
    if isinstance(value, dict):
        separator = "{\n" + inner
        for key, item in value.items():
            yield separator + _quote(str(key)) + ": "
            yield from _stream(item, inner)
            separator = ",\n" + inner
        yield "\n" + indent + "}"
        return
    assert isinstance(value, Iterator | list)
    separator = "[\n" + inner
    for item in value:
        yield separator
        yield from _stream(item, inner)
        separator = ",\n" + inner
    yield "[]" if separator.startswith("[") else "\n" + indent + "]"


def _plain(value: object, indent: str, parts: list[str]) -> None:
    """``value`` as ``json.dumps(value, indent=2)`` writes it at ``indent``, into ``parts``."""
    if isinstance(value, str):
        parts.append(_quote(value))
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(int.__repr__(value))
    elif isinstance(value, float):
        parts.append(json.dumps(value))
    elif isinstance(value, list | tuple):
        if not value:
            parts.append("[]")
            return
        inner = indent + "  "
        separator = "[\n" + inner
        for item in value:
            parts.append(separator)
            _plain(item, inner, parts)
            separator = ",\n" + inner
        parts.append("\n" + indent + "]")
    elif isinstance(value, dict):
        if not value:
            parts.append("{}")
            return
        inner = indent + "  "
        separator = "{\n" + inner
        for key, item in value.items():
            parts.append(separator + _quote(str(key)) + ": ")
            _plain(item, inner, parts)
            separator = ",\n" + inner
        parts.append("\n" + indent + "}")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


def _is_lazy(value: object) -> bool:
    if isinstance(value, Iterator):
        return True
    if isinstance(value, dict):
        return any(_is_lazy(v) for v in value.values())
    if isinstance(value, list):
        return any(_is_lazy(v) for v in value)
    return False


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover


def _comparison_text(found: Comparison, *, shown: int, base: str) -> list[str]:
    lines = [f"    {_short(found.a, base)} vs {_short(found.b, base)} ({found.level.value}):"]
    by_kind: dict[tuple[str, str], list[MemberDifference]] = {}
    for member in found.members:
        key = (member.member_class.value, member.rule or "-")
        by_kind.setdefault(key, []).append(member)
    for (member_class, rule), members in by_kind.items():
        label = f"{member_class}" + (f", set aside by {rule}" if rule != "-" else "")
        lines.append(f"      {label}: {len(members)} member{'s' if len(members) != 1 else ''}")
        for member in members[:shown]:
            lines.append(f"        {member.path} [{member.category.value}] {member.comment}")
        if len(members) > shown:
            lines.append(f"        … and {len(members) - shown} more")
    return lines


def _short(path: str, base: str) -> str:
    return path.removeprefix(base)


def _common_base(report: DedupReport) -> str:
    paths = [p.path for p in report.packages]
    if len(paths) < 2:
        return paths[0].rsplit("/", 1)[0] + "/" if paths and "/" in paths[0] else ""
    first, last = min(paths), max(paths)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[: first.rfind("/", 0, size) + 1] if "/" in first[:size] else ""


def render_text(
    report: DedupReport,
    *,
    level: Level | None = None,
    shown: int = 5,
    explainer: Explainer | None = None,
) -> str:
    """The text report: a table of the levels, then the groups of ``level`` (every level when
    None) and why their packages differ at the level before, then the packages of one name
    and version that stay apart."""
    return "".join(iter_text(report, level=level, shown=shown, explainer=explainer))


def iter_text(
    report: DedupReport,
    *,
    level: Level | None = None,
    shown: int = 5,
    explainer: Explainer | None = None,
) -> Iterator[str]:
    """:func:`render_text`, a line at a time (each ending in a newline): each comparison is
    made by ``explainer`` (when the report does not hold it) as it is written."""
    explain = _explainer(explainer)
    base = _common_base(report)
    yield from _lines(
        [
            f"{len(report.packages)} packages, {_size(sum(p.size for p in report.packages))}"
            + (f" (in {base})" if base else ""),
            "",
            f"  {'level':<10} {'groups':>6} {'merged':>6} {'downloads saved':>15} "
            f"{'bytes saved':>12}",
        ]
    )
    for result in report.levels:
        yield (
            f"  {result.level.value:<10} {result.count:>6} {len(result.merged):>6} "
            f"{result.downloads_saved:>15} {_size(result.bytes_saved):>12}\n"
        )
    yield (
        f"  members: {_size(report.member_bytes)} in all, {_size(report.distinct_member_bytes)} "
        "distinct (what a store of members holds)\n"
    )
    for result in report.levels:
        if level is not None and result.level is not level:
            continue
        if not result.merged:
            continue
        yield from _lines(
            ["", f"{result.level.value}: {len(result.merged)} groups of more than one"]
        )
        for number, group in enumerate(result.merged, 1):
            lines = [
                f"  group {number} ({len(group.packages)} packages, saves "
                f"{_size(group.bytes_saved)}):"
            ]
            lines += [f"    {_short(p, base)}" for p in group.packages]
            yield from _lines(lines)
            first = True
            for found in explain.why_apart(group):
                if first:
                    stricter = result.level.stricter
                    assert stricter is not None
                    yield f"   apart at {stricter.value}:\n"
                    first = False
                yield from _lines(_comparison_text(found, shown=shown, base=base))
    first = True
    for found in explain.apart(report):
        if first:
            yield from _lines(
                ["", "apart at every level (same name and version, another payload):"]
            )
            first = False
        yield from _lines(_comparison_text(found, shown=shown, base=base))


def _lines(lines: list[str]) -> Iterator[str]:
    for line in lines:
        yield line + "\n"


def rules_document() -> dict[str, JSONValue]:
    """``--list-rules --format json``."""
    rules: list[JSONValue] = [
        {
            "rule": r.name,
            "version": r.version,
            "level": r.level.value,
            "touches": r.touches,
            "sets_aside": r.sets_aside.value,
            "category": r.category.value,
            "formats": [f.value for f in sorted(r.formats, key=lambda f: f.value)],
        }
        for r in RULES
    ]
    return envelope("dedup", {"rules": rules})


def render_rules_text() -> str:
    """``--list-rules``: one line per rule, in the order they run."""
    width = max(len(f"{r.name} v{r.version}") for r in RULES)
    return "".join(
        f"{f'{r.name} v{r.version}':<{width}}  {r.level.value:<9} {r.sets_aside.value:<10} "
        f"{r.touches}\n"
        for r in RULES
    )
