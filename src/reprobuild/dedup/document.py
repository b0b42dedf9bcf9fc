"""``reprobuild dedup``'s report as a JSON document and as text; the rules as a list.

The JSON document is the report's full form: every package with its digest at each level,
every level's groups with their savings, and every comparison with every member that differs.
The text names the groups of more than one package and shows, for each comparison, the
differing members by class and rule (the first few of each).
"""

from __future__ import annotations

from reprobuild._types import JSONValue
from reprobuild.dedup.groups import Comparison, DedupReport, MemberDifference
from reprobuild.dedup.model import Level
from reprobuild.dedup.rules import RULES
from reprobuild.report import envelope

__all__ = ["render_rules_text", "render_text", "report_document", "rules_document"]


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


def report_document(report: DedupReport) -> dict[str, JSONValue]:
    """The ``--format json`` document of ``report``."""
    levels: list[JSONValue] = []
    for result in report.levels:
        levels.append(
            {
                "level": result.level.value,
                "groups": len(result.groups),
                "merged_groups": len(result.merged),
                "bytes_saved": result.bytes_saved,
                "downloads_saved": result.downloads_saved,
                "group_list": [
                    {
                        "digest": g.digest,
                        "packages": list(g.packages),
                        "bytes_saved": g.bytes_saved,
                        "downloads_saved": g.downloads_saved,
                        "apart_at_previous_level": [_comparison(c) for c in g.why_apart_before],
                    }
                    for g in result.merged
                ],
            }
        )
    packages: list[JSONValue] = [
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
    ]
    return envelope(
        "dedup",
        {
            "packages": packages,
            "levels": levels,
            "apart": [_comparison(c) for c in report.apart],
            "store": {
                "member_bytes": report.member_bytes,
                "distinct_member_bytes": report.distinct_member_bytes,
            },
        },
    )


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


def render_text(report: DedupReport, *, level: Level | None = None, shown: int = 5) -> str:
    """The text report: a table of the levels, then the groups of ``level`` (every level when
    None) and why their packages differ at the level before, then the packages of one name
    and version that stay apart."""
    base = _common_base(report)
    lines = [
        f"{len(report.packages)} packages, {_size(sum(p.size for p in report.packages))}"
        + (f" (in {base})" if base else ""),
        "",
        f"  {'level':<10} {'groups':>6} {'merged':>6} {'downloads saved':>15} {'bytes saved':>12}",
    ]
    for result in report.levels:
        lines.append(
            f"  {result.level.value:<10} {len(result.groups):>6} {len(result.merged):>6} "
            f"{result.downloads_saved:>15} {_size(result.bytes_saved):>12}"
        )
    lines.append(
        f"  members: {_size(report.member_bytes)} in all, {_size(report.distinct_member_bytes)} "
        "distinct (what a store of members holds)"
    )
    for result in report.levels:
        if level is not None and result.level is not level:
            continue
        if not result.merged:
            continue
        lines += ["", f"{result.level.value}: {len(result.merged)} groups of more than one"]
        for number, group in enumerate(result.merged, 1):
            lines.append(
                f"  group {number} ({len(group.packages)} packages, saves "
                f"{_size(group.bytes_saved)}):"
            )
            lines += [f"    {_short(p, base)}" for p in group.packages]
            if group.why_apart_before:
                stricter = result.level.stricter
                assert stricter is not None
                lines.append(f"   apart at {stricter.value}:")
                for found in group.why_apart_before:
                    lines += _comparison_text(found, shown=shown, base=base)
    if report.apart:
        lines += ["", "apart at every level (same name and version, another payload):"]
        for found in report.apart:
            lines += _comparison_text(found, shown=shown, base=base)
    return "\n".join(lines) + "\n"


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
