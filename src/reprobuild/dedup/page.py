"""One self-contained HTML page for ``reprobuild dedup --format html``, made from the report's
JSON document (so a page can be made again from a saved report); every piece of text is
escaped."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from reprobuild._types import JSONValue
from reprobuild.present.htmlpage import escape, html_page

__all__ = ["iter_dedup_html", "render_dedup_html"]

_STYLE = """\
table.levels, table.members { border-collapse: collapse; margin: 0.5rem 0; }
table.levels th, table.levels td, table.members th, table.members td {
  border-bottom: 1px solid var(--line); padding: 0.2rem 0.5rem; text-align: left;
  vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
span.cls { border-radius: 0.25rem; padding: 0 0.35rem; background: #e7eefb; color: #1d4f9c; }
span.cls-payload, span.cls-identity { background: #fde8e8; color: #a11d1d; }
"""


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _list(value: object) -> list[dict[str, JSONValue]]:
    return list(_items(value))


def _items(value: object) -> Iterator[dict[str, JSONValue]]:
    """The objects of a list of them, or of an iterator over them."""
    if isinstance(value, list | Iterator):
        yield from (v for v in value if isinstance(v, dict))


def _comparison(found: Mapping[str, JSONValue]) -> list[str]:
    rows = []
    for member in _list(found.get("members")):
        cls = _text(member.get("class"))
        rows.append(
            f"<tr><td><code>{escape(_text(member.get('path')))}</code></td>"
            f'<td><span class="cls cls-{escape(cls)}">{escape(cls)}</span></td>'
            f"<td>{escape(_text(member.get('category')))}</td>"
            f"<td>{escape(_text(member.get('rule')))}</td>"
            f"<td>{escape(_text(member.get('comment')))}</td></tr>"
        )
    return [
        f"<p><code>{escape(_text(found.get('a')))}</code> vs "
        f"<code>{escape(_text(found.get('b')))}</code> at {escape(_text(found.get('level')))}:"
        "</p>",
        '<table class="members"><thead><tr><th>member</th><th>class</th><th>category</th>'
        "<th>set aside by</th><th>difference</th></tr></thead><tbody>",
        *rows,
        "</tbody></table>",
    ]


def render_dedup_html(doc: Mapping[str, JSONValue]) -> str:
    """The whole page for ``doc`` (``reprobuild dedup --format json``'s document)."""
    return "".join(iter_dedup_html(doc))


def iter_dedup_html(doc: Mapping[str, object]) -> Iterator[str]:
    """The text of :func:`render_dedup_html`, piece by piece: ``doc`` may hold its packages
    and its comparisons as iterators (as :func:`~reprobuild.dedup.document.lazy_document`
    makes it), each comparison then made, written and let go in turn."""
    packages = doc.get("packages")
    count = len(packages) if isinstance(packages, list) else sum(1 for _ in _items(packages))
    page = html_page(
        title="reprobuild dedup",
        header=[
            "<h1>reprobuild dedup</h1>",
            f"<p>{count} packages, grouped at four levels: bytes, members, canonical, payload.</p>",
        ],
        main=[_MAIN],
        legend=False,
        style=_STYLE,
    )
    head, tail = page.split(_MAIN)
    yield head
    separator = ""
    for part in _main(doc):
        yield separator + part
        separator = "\n"
    yield tail


#: where the page's main part goes, in the page made around it
_MAIN = "\x00main\x00"


def _main(doc: Mapping[str, object]) -> Iterator[str]:
    levels = list(_items(doc.get("levels")))
    yield (
        '<table class="levels"><thead><tr><th>level</th><th>groups</th><th>merged</th>'
        "<th>downloads saved</th><th>bytes saved</th></tr></thead><tbody>"
    )
    for lv in levels:
        yield (
            f"<tr><td>{escape(_text(lv.get('level')))}</td>"
            f'<td class="num">{escape(_text(lv.get("groups")))}</td>'
            f'<td class="num">{escape(_text(lv.get("merged_groups")))}</td>'
            f'<td class="num">{escape(_text(lv.get("downloads_saved")))}</td>'
            f'<td class="num">{escape(_text(lv.get("bytes_saved")))}</td></tr>'
        )
    yield "</tbody></table>"
    for lv in levels:
        groups = list(_items(lv.get("group_list")))
        if not groups:
            continue
        yield f"<h2>{escape(_text(lv.get('level')))}</h2>"
        for number, group in enumerate(groups, 1):
            names = group.get("packages")
            items = [_text(n) for n in names] if isinstance(names, list) else []
            yield (
                f"<details open><summary>group {number}: {len(items)} packages, saves "
                f"{escape(_text(group.get('bytes_saved')))} bytes</summary><ul>"
                + "".join(f"<li><code>{escape(n)}</code></li>" for n in items)
                + "</ul>"
            )
            for found in _items(group.get("apart_at_previous_level")):
                yield from _comparison(found)
            yield "</details>"
    heading = False
    for found in _items(doc.get("apart")):
        if not heading:
            yield "<h2>apart at every level</h2>"
            heading = True
        yield from _comparison(found)
