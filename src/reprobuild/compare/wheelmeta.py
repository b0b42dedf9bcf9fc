"""The metadata files of a wheel's ``.dist-info`` folder (and an sdist's ``PKG-INFO``), read for
what they mean.

- ``RECORD``, row by row: the same rows in another order are one ``metadata-order`` leaf; rows
  that differ are one ``content`` leaf with a unified diff of those rows, sorted by path.
- ``METADATA`` and ``PKG-INFO`` (core metadata), and ``WHEEL``, field by field, read as RFC 822
  headers: a field given several times (``Requires-Dist``, ``Classifier``, ``Tag``) whose values
  are the same in another order is ``metadata-order``; any other field that differs is one
  ``content`` leaf named ``METADATA › Version``; the body (the long description) is one more.
- ``entry_points.txt``, section and key by key: entries in another order are
  ``metadata-order``, others ``content``.

When everything these readers see is equal and only the bytes differ (line ends, folding,
spacing), the difference is ``content`` with a diff of the text: a reader might not care, but the
installed file differs.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

from reprobuild.compare import Context, Item
from reprobuild.compare.difference import Category, Difference
from reprobuild.compare.nodes import (
    cut_note,
    group,
    join_comments,
    labelled,
    leaf,
    short,
    sides,
    sub,
    unified,
)
from reprobuild.compare.text import text_difference
from reprobuild.dist import RecordRow, parse_record

__all__ = [
    "ENTRY_POINTS",
    "METADATA",
    "RECORD",
    "WHEEL",
    "EntryPointsComparator",
    "HeadersComparator",
    "RecordComparator",
]


def _in_dist_info(item: Item, basename: str) -> bool:
    parts = item.name.rstrip("/").split("/")
    return parts[-1] == basename and len(parts) >= 2 and parts[-2].endswith(".dist-info")


def _decode(item: Item) -> str:
    return item.content.decode("utf-8")


def _formatting_only(a: Item, b: Item, context: Context, what: str) -> Difference | None:
    return text_difference(
        a.name,
        b.name,
        _decode(a),
        _decode(b),
        max_lines=context.options.max_diff_lines,
        comment=f"the same {what}, written differently",
        labels=context.options.labels,
    )


# --------------------------------------------------------------------------- RECORD


@dataclass(frozen=True, slots=True)
class RecordComparator:
    """``*.dist-info/RECORD``, row by row."""

    name: str = "record"

    def accepts(self, a: Item, b: Item) -> bool:
        return _in_dist_info(a, "RECORD") and _in_dist_info(b, "RECORD")

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        try:
            rows_a = parse_record(a.content, member=a.name)
            rows_b = parse_record(b.content, member=b.name)
        except csv.Error as exc:
            raise ValueError(f"RECORD is not CSV: {exc}") from exc
        renames = _record_renames(a.name, b.name)
        # a's rows with its .dist-info and .data folders named as in b, to match b's rows
        keyed_a = [(_renamed(row.path, renames), _row_line(row)) for row in rows_a]
        keyed_b = [(row.path, _row_line(row)) for row in rows_b]
        match_a = [f"{path},{line.split(',', 1)[1]}" for path, line in keyed_a]
        match_b = [line for _, line in keyed_b]
        count_a, count_b = Counter(match_a), Counter(match_b)
        max_lines = context.options.max_diff_lines
        children: list[Difference] = []
        if count_a != count_b:
            children.append(
                _record_rows(
                    a,
                    b,
                    keyed_a,
                    keyed_b,
                    count_a,
                    count_b,
                    max_lines=max_lines,
                    labels=context.options.labels,
                )
            )
        common_a = [line for line in match_a if line in count_b]
        common_b = [line for line in match_b if line in count_a]
        if common_a != common_b:
            diff, cut = unified(
                common_a,
                common_b,
                name_a=a.name,
                name_b=b.name,
                max_lines=max_lines,
                labels=context.options.labels,
            )
            children.append(
                leaf(
                    sub(a.name, "row order"),
                    sub(b.name, "row order"),
                    Category.METADATA_ORDER,
                    comment=join_comments(
                        f"the same {len(common_a)} rows in another order", cut_note(cut)
                    ),
                    unified_diff=diff or None,
                )
            )
        if not children:
            return _formatting_only(a, b, context, "rows")
        return group(a.name, b.name, children)


def _row_line(row: RecordRow) -> str:
    return f"{row.path},{row.hash},{row.size}"


def _record_renames(name_a: str, name_b: str) -> dict[str, str]:
    """``{name}-{version}.dist-info/`` and ``.data/`` of a's RECORD -> those of b's."""
    folder_a = name_a.rstrip("/").split("/")[-2]
    folder_b = name_b.rstrip("/").split("/")[-2]
    if folder_a == folder_b:
        return {}
    stem_a, stem_b = folder_a.removesuffix(".dist-info"), folder_b.removesuffix(".dist-info")
    return {f"{folder_a}/": f"{folder_b}/", f"{stem_a}.data/": f"{stem_b}.data/"}


def _renamed(path: str, renames: dict[str, str]) -> str:
    for old, new in renames.items():
        if path.startswith(old):
            return new + path[len(old) :]
    return path


def _record_rows(
    a: Item,
    b: Item,
    keyed_a: list[tuple[str, str]],
    keyed_b: list[tuple[str, str]],
    count_a: Counter[str],
    count_b: Counter[str],
    *,
    max_lines: int,
    labels: tuple[str, str] = ("", ""),
) -> Difference:
    """One ``content`` leaf: the rows that differ, by path, each row of a above b's."""
    only_a, only_b = count_a - count_b, count_b - count_a
    differing_a: dict[str, list[str]] = {}
    differing_b: dict[str, list[str]] = {}
    for path, line in keyed_a:
        match = f"{path},{line.split(',', 1)[1]}"
        if only_a[match] > 0:
            only_a[match] -= 1
            differing_a.setdefault(path, []).append(line)
    for path, line in keyed_b:
        if only_b[line] > 0:
            only_b[line] -= 1
            differing_b.setdefault(path, []).append(line)
    changed = differing_a.keys() & differing_b.keys()
    lines = [f"--- {labelled(a.name, labels[0])}", f"+++ {labelled(b.name, labels[1])}"]
    for path in sorted(differing_a.keys() | differing_b.keys()):
        lines += [f"-{line}" for line in differing_a.get(path, ())]
        lines += [f"+{line}" for line in differing_b.get(path, ())]
    shown = lines[: max_lines + 2] if max_lines else lines
    rows = len(differing_a.keys() | differing_b.keys())  # one per file, whichever side has it
    counts = (
        f"{len(changed)} changed, {len(differing_a.keys() - changed)} only in "
        f"{sides(labels)[0]}, {len(differing_b.keys() - changed)} only in {sides(labels)[1]}"
    )
    return leaf(
        a.name,
        b.name,
        Category.CONTENT,
        comment=join_comments(
            f"rows of {rows} file{'s' if rows != 1 else ''} differ ({counts})",
            cut_note(len(lines) - len(shown)),
        ),
        unified_diff="\n".join(shown),
    )


# --------------------------------------------------------------------------- RFC 822 headers


#: A line of the header block, as the standard library's email parser tells one: an envelope
#: ``From`` line, a field name and its colon (``ftext``: printable ASCII but the colon), or a
#: continuation. The first line that is none of these ends the headers.
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")


def _headers(item: Item) -> tuple[list[tuple[str, str]], str]:
    """The header fields in order (names as written) and the body.

    What ``email.parser.HeaderParser(policy=email.policy.compat32).parsestr`` gives, line for
    line (its ``items()`` and ``get_payload()``), without the email package, whose import costs
    more than the comparison: lines end at CR, LF or CRLF; a leading envelope ``From`` line, a
    continuation before any field and a line that starts with a colon are skipped; a ``From``
    line that ends the header block starts the body; the blank line after the headers belongs
    to neither. A field's value is the rest of its line without the blanks after the colon,
    then its continuation lines as they are, without the final line end.
    """
    lines = io.StringIO(_decode(item), newline="").readlines()
    count = 0
    while count < len(lines) and _HEADER_LINE.match(lines[count]):
        count += 1
    body = lines[count + 1 :] if count < len(lines) and lines[count][0] in "\r\n" else lines[count:]
    items: list[tuple[str, str]] = []
    field: list[str] = []
    for number, line in enumerate(lines[:count]):
        if line[0] in " \t":
            if field:
                field.append(line)
            continue
        if field:
            items.append(_field(field))
            field = []
        if line.startswith("From "):
            if number == count - 1 and number:
                body = [line, *body]  # the body's first line, not an envelope line
            continue
        if not line.startswith(":"):
            field = [line]
    if field:
        items.append(_field(field))
    return items, "".join(body)


def _field(lines: list[str]) -> tuple[str, str]:
    name, value = lines[0].split(":", 1)
    return name, (value.lstrip(" \t") + "".join(lines[1:])).rstrip("\r\n")


def _by_field(items: list[tuple[str, str]]) -> dict[str, tuple[str, list[str]]]:
    """Lower-cased field name -> (the name as first written, its values in order)."""
    fields: dict[str, tuple[str, list[str]]] = {}
    for key, value in items:
        fields.setdefault(key.lower(), (key, []))[1].append(value)
    return fields


@dataclass(frozen=True, slots=True, kw_only=True)
class HeadersComparator:
    """Files of RFC 822 header fields: core metadata (``METADATA``, ``PKG-INFO``) or ``WHEEL``.

    ``in_dist_info`` names the files accepted inside a ``.dist-info`` folder, ``anywhere`` those
    accepted in any folder.
    """

    name: str
    in_dist_info: tuple[str, ...] = ()
    anywhere: tuple[str, ...] = ()

    def _accepts(self, item: Item) -> bool:
        return item.basename in self.anywhere or any(
            _in_dist_info(item, basename) for basename in self.in_dist_info
        )

    def accepts(self, a: Item, b: Item) -> bool:
        return self._accepts(a) and self._accepts(b)

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        items_a, body_a = _headers(a)
        items_b, body_b = _headers(b)
        fields_a, fields_b = _by_field(items_a), _by_field(items_b)
        max_lines = context.options.max_diff_lines
        labels = context.options.labels
        children: list[Difference | None] = []
        for key in dict.fromkeys([*fields_a, *fields_b]):
            name, values_a = fields_a.get(key, (fields_b[key][0], []))
            values_b = fields_b.get(key, (name, []))[1]
            if values_a == values_b:
                continue
            source_a, source_b = sub(a.name, name), sub(b.name, name)
            if Counter(values_a) == Counter(values_b):
                diff, cut = unified(
                    values_a,
                    values_b,
                    name_a=source_a,
                    name_b=source_b,
                    max_lines=max_lines,
                    labels=labels,
                )
                children.append(
                    leaf(
                        source_a,
                        source_b,
                        Category.METADATA_ORDER,
                        comment=join_comments(
                            f"the same {len(values_a)} values in another order", cut_note(cut)
                        ),
                        unified_diff=diff or None,
                    )
                )
                continue
            if (
                len(values_a) <= 1
                and len(values_b) <= 1
                and "\n" not in "".join(values_a + values_b)
            ):
                shown_a = short(values_a[0]) if values_a else "(absent)"
                shown_b = short(values_b[0]) if values_b else "(absent)"
                children.append(
                    leaf(source_a, source_b, Category.CONTENT, comment=f"{shown_a} vs {shown_b}")
                )
                continue
            lines_a = [f"{name}: {line}" for value in values_a for line in value.split("\n")]
            lines_b = [f"{name}: {line}" for value in values_b for line in value.split("\n")]
            diff, cut = unified(
                lines_a,
                lines_b,
                name_a=source_a,
                name_b=source_b,
                max_lines=max_lines,
                labels=labels,
            )
            children.append(
                leaf(
                    source_a,
                    source_b,
                    Category.CONTENT,
                    comment=join_comments(
                        f"{len(values_a)} vs {len(values_b)} values", cut_note(cut)
                    ),
                    unified_diff=diff or None,
                )
            )
        if body_a != body_b:
            children.append(
                text_difference(
                    sub(a.name, "(body)"),
                    sub(b.name, "(body)"),
                    body_a,
                    body_b,
                    max_lines=max_lines,
                    comment="the long description differs",
                    labels=labels,
                )
            )
        if not children:
            order_a = [key.lower() for key, _ in items_a]
            order_b = [key.lower() for key, _ in items_b]
            if order_a != order_b:
                diff, cut = unified(
                    [key for key, _ in items_a],
                    [key for key, _ in items_b],
                    name_a=a.name,
                    name_b=b.name,
                    max_lines=max_lines,
                    labels=labels,
                )
                return leaf(
                    a.name,
                    b.name,
                    Category.METADATA_ORDER,
                    comment=join_comments("the same fields in another order", cut_note(cut)),
                    unified_diff=diff or None,
                )
            return _formatting_only(a, b, context, "fields")
        return group(a.name, b.name, children)


# --------------------------------------------------------------------------- entry_points.txt


def _entry_points(item: Item) -> dict[str, dict[str, str]]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",), strict=False)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    try:
        parser.read_string(_decode(item), source=item.name)
    except configparser.Error as exc:
        raise ValueError(f"not an entry points file: {exc}") from exc
    return {section: dict(parser.items(section, raw=True)) for section in parser.sections()}


@dataclass(frozen=True, slots=True)
class EntryPointsComparator:
    """``entry_points.txt``, section and key by key."""

    name: str = "entry-points"

    def accepts(self, a: Item, b: Item) -> bool:
        return a.basename == "entry_points.txt" and b.basename == "entry_points.txt"

    def compare(self, a: Item, b: Item, context: Context) -> Difference | None:
        sections_a, sections_b = _entry_points(a), _entry_points(b)
        children: list[Difference] = []
        for section in dict.fromkeys([*sections_a, *sections_b]):
            where_a, where_b = sub(a.name, f"[{section}]"), sub(b.name, f"[{section}]")
            if section not in sections_b:
                side = sides(context.options.labels)[0]
                children.append(leaf(where_a, where_b, Category.CONTENT, comment=f"only in {side}"))
                continue
            if section not in sections_a:
                side = sides(context.options.labels)[1]
                children.append(leaf(where_a, where_b, Category.CONTENT, comment=f"only in {side}"))
                continue
            entries_a, entries_b = sections_a[section], sections_b[section]
            for key in dict.fromkeys([*entries_a, *entries_b]):
                value_a, value_b = entries_a.get(key), entries_b.get(key)
                if value_a != value_b:
                    children.append(
                        leaf(
                            f"{where_a} {key}",
                            f"{where_b} {key}",
                            Category.CONTENT,
                            comment=f"{short(value_a) if value_a is not None else '(absent)'} vs "
                            f"{short(value_b) if value_b is not None else '(absent)'}",
                        )
                    )
        if children:
            return group(a.name, b.name, children)
        order_a = [(s, list(entries)) for s, entries in sections_a.items()]
        order_b = [(s, list(entries)) for s, entries in sections_b.items()]
        if order_a != order_b:
            lines_a = [f"[{s}] {key}" for s, keys in order_a for key in keys] or list(sections_a)
            lines_b = [f"[{s}] {key}" for s, keys in order_b for key in keys] or list(sections_b)
            diff, cut = unified(
                lines_a,
                lines_b,
                name_a=a.name,
                name_b=b.name,
                max_lines=context.options.max_diff_lines,
                labels=context.options.labels,
            )
            return leaf(
                a.name,
                b.name,
                Category.METADATA_ORDER,
                comment=join_comments("the same entry points in another order", cut_note(cut)),
                unified_diff=diff or None,
            )
        return _formatting_only(a, b, context, "entry points")


RECORD = RecordComparator()
METADATA = HeadersComparator(name="metadata", in_dist_info=("METADATA",), anywhere=("PKG-INFO",))
WHEEL = HeadersComparator(name="wheel-file", in_dist_info=("WHEEL",))
ENTRY_POINTS = EntryPointsComparator()
