"""One self-contained HTML page for a difference tree, to keep or to share.

Everything is in the one file: the style sheet inline, three one-line event handlers (expand
all, collapse all, hide inconsequential), and no reference to anything outside it — no
fonts, scripts, images or links — so the page shows the same offline, in a CI artifact or in an
e-mail attachment, and opening it reaches no server.

The tree is nested ``<details>``: a node whose subtree holds a consequential difference starts
open, one holding only inconsequential differences starts closed. Each category is a badge;
the legend lists them all, the inconsequential ones apart and drawn dashed and grey, and each
inconsequential badge in the tree says so. Unified diffs are shown side by side (see
:mod:`reprobuild.present.sidebyside`). Every piece of text is escaped with :func:`html.escape`
after :func:`visible`, so a member name cannot inject markup or hide a difference.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from reprobuild import __version__
from reprobuild.compare.difference import INCONSEQUENTIAL, Category, Difference
from reprobuild.present._chars import split_lines, visible
from reprobuild.present.sidebyside import Row, RowKind, side_by_side

__all__ = [
    "CATEGORY_DESCRIPTIONS",
    "escape",
    "html_page",
    "render_html",
    "render_tree",
    "verdict_class",
]

#: One line per category for the legend.
CATEGORY_DESCRIPTIONS: Mapping[Category, str] = MappingProxyType(
    {
        Category.CONTENT: "bytes that are installed or executed differ",
        Category.MISSING: "in a, not in b",
        Category.ADDED: "in b, not in a",
        Category.TIMESTAMP: "member or header times",
        Category.ORDER: "the order of members in a container",
        Category.PERMISSIONS: "mode bits other than the executable bit",
        Category.OWNERSHIP: "uid, gid, user and group names",
        Category.COMPRESSION: "compression method or level of the same bytes",
        Category.CONTAINER: "gzip header, zip comment and extra fields, tar format",
        Category.METADATA_ORDER: "RECORD rows or a set-like JSON list reordered",
    }
)

_STYLE = """\
:root { color-scheme: light dark; --fg: #1f2328; --bg: #ffffff; --muted: #656d76;
  --line: #d0d7de; --del: #ffebe9; --add: #e6ffec; --hunk: #ddf4ff; --note: #f6f8fa;
  --bad: #cf222e; --warn: #9a6700; --good: #1a7f37; --inc: #6e7781; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117;
  --muted: #8d96a0; --line: #30363d; --del: #3c1618; --add: #12261e; --hunk: #0c2d6b;
  --note: #161b22; --bad: #ff7b72; --warn: #d29922; --good: #3fb950; --inc: #8d96a0; } }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 120rem; color: var(--fg);
  background: var(--bg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.25rem; margin: 0.5rem 0; word-break: break-all; }
h2 { font-size: 1rem; margin: 0 0 0.5rem; }
code, .name, .sbs td, .comment { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas,
  monospace; font-size: 13px; }
.vs { color: var(--muted); font-weight: normal; }
.verdict { font-weight: 600; }
.verdict.consequential { color: var(--bad); }
.verdict.inconsequential { color: var(--warn); }
.verdict.identical { color: var(--good); }
nav { margin: 0.75rem 0; display: flex; gap: 0.75rem; align-items: center; flex-wrap: wrap; }
button { font: inherit; padding: 0.15rem 0.6rem; cursor: pointer; }
.legend { border: 1px solid var(--line); border-radius: 6px; padding: 0.75rem 1rem;
  margin: 0.75rem 0 1rem; display: flex; gap: 2rem; flex-wrap: wrap; }
.legend dl { display: grid; grid-template-columns: max-content auto; gap: 0.25rem 0.75rem;
  margin: 0; }
.legend dd { margin: 0; color: var(--muted); }
.badge { display: inline-block; padding: 0 0.45rem; border-radius: 1rem; font-size: 12px;
  font-weight: 600; border: 1px solid transparent; white-space: nowrap; }
.badge.consequential { color: #fff; background: var(--bad); }
.badge.added { background: var(--good); }
.badge.inconsequential { color: var(--inc); border: 1px dashed var(--inc); }
.inc-note { color: var(--inc); font-size: 12px; font-style: italic; }
.counts { color: var(--muted); font-size: 12px; }
details, .leaf { margin: 0.15rem 0 0.15rem 1.25rem; }
main > details, main > .leaf { margin-left: 0; }
summary { cursor: pointer; padding: 0.1rem 0; }
.leaf { padding: 0.1rem 0 0.1rem 1rem; }
.node-body { border-left: 1px solid var(--line); padding-left: 0.75rem; margin-left: 0.3rem; }
.comment { margin: 0.25rem 0; color: var(--muted); white-space: pre-wrap;
  word-break: break-word; }
.sbs { border-collapse: collapse; width: 100%; margin: 0.35rem 0 0.6rem; table-layout: fixed;
  border: 1px solid var(--line); }
.sbs col.num { width: 3.5rem; }
.sbs td, .sbs th { padding: 0 0.4rem; vertical-align: top; white-space: pre-wrap;
  word-break: break-all; tab-size: 8; }
.sbs th { text-align: left; background: var(--note); font-family: ui-monospace, monospace;
  font-size: 13px; border-bottom: 1px solid var(--line); }
.sbs td.num { color: var(--muted); text-align: right; user-select: none; }
.sbs td.del { background: var(--del); }
.sbs td.add { background: var(--add); }
.sbs td.gap { background: var(--note); }
.sbs tr.hunk td { background: var(--hunk); color: var(--muted); }
.sbs tr.note td { background: var(--note); color: var(--muted); font-style: italic; }
.sbs td.left-text { border-right: 1px solid var(--line); }
body.hide-inc .only-inc { display: none; }
footer { margin-top: 2rem; color: var(--muted); font-size: 12px; }
"""

_EXPAND = "document.querySelectorAll('details').forEach(function(d){d.open=true;})"
_COLLAPSE = "document.querySelectorAll('main details').forEach(function(d){d.open=false;})"
_HIDE = "document.body.classList.toggle('hide-inc',this.checked)"


def escape(text: str, *, keep_tabs: bool = False) -> str:
    """``text`` for HTML: invisible characters shown (:func:`visible`), markup escaped."""
    return html.escape(visible(text, keep_tabs=keep_tabs), quote=True)


def _badge(category: Category) -> str:
    value = html.escape(category.value)
    if category in INCONSEQUENTIAL:
        return (
            f'<span class="badge inconsequential cat-{value}" '
            f'title="inconsequential: cannot change what gets installed">{value}</span>'
        )
    extra = " added" if category is Category.ADDED else ""
    return (
        f'<span class="badge consequential cat-{value}{extra}" '
        f'title="can change what gets installed">{value}</span>'
    )


def _counts(counts: Counter[Category]) -> str:
    parts = [f"{n} {c.value}" for c, n in sorted(counts.items(), key=lambda i: (-i[1], i[0].value))]
    return html.escape(", ".join(parts))


def _title(node: Difference) -> str:
    if node.source_a == node.source_b:
        title = f'<span class="name">{escape(node.source_a) or "&quot;&quot;"}</span>'
    else:
        title = (
            f'<span class="name">{escape(node.source_a) or "&quot;&quot;"}</span>'
            f' <span class="vs">vs</span> '
            f'<span class="name">{escape(node.source_b) or "&quot;&quot;"}</span>'
        )
    if node.category is not None:
        title += " " + _badge(node.category)
        if node.category in INCONSEQUENTIAL:
            title += ' <span class="inc-note">inconsequential</span>'
    if node.children:
        counts = node.counts()
        if counts:
            title += f' <span class="counts">{_counts(counts)}</span>'
    return title


def _cell(text: str | None, number: int | None, side: str, changed: bool) -> str:
    if text is None:
        return f'<td class="num"></td><td class="gap {side}-text"></td>'
    css = ("del" if side == "left" else "add") if changed else "ctx"
    shown = "" if number is None else str(number)
    text_html = escape(text, keep_tabs=True)
    return f'<td class="num">{shown}</td><td class="{css} {side}-text">{text_html}</td>'


def _row(row: Row) -> str:
    if row.kind is RowKind.FILES:
        return (
            f'<tr class="files"><th colspan="2">--- {escape(row.left or "")}</th>'
            f'<th colspan="2">+++ {escape(row.right or "")}</th></tr>'
        )
    if row.kind in (RowKind.HUNK, RowKind.NOTE):
        css = "hunk" if row.kind is RowKind.HUNK else "note"
        return (
            f'<tr class="{css}"><td colspan="4">{escape(row.text or "", keep_tabs=True)}</td></tr>'
        )
    changed = row.kind is RowKind.CHANGE
    return (
        "<tr>"
        + _cell(row.left, row.left_number, "left", changed)
        + _cell(row.right, row.right_number, "right", changed)
        + "</tr>"
    )


def _table(unified_diff: str) -> str:
    rows = side_by_side(unified_diff)
    return "\n".join(
        [
            '<table class="sbs">',
            '<colgroup><col class="num"><col><col class="num"><col></colgroup>',
            "<tbody>",
            *(_row(row) for row in rows),
            "</tbody>",
            "</table>",
        ]
    )


def _node(node: Difference, out: list[str], *, root: bool = False) -> None:
    counts = node.counts()
    only_inconsequential = bool(counts) and node.inconsequential
    classes = "node only-inc" if only_inconsequential and not root else "node"
    has_body = node.comment is not None or node.unified_diff is not None or node.children
    if not has_body:
        out.append(f'<div class="{classes} leaf">{_title(node)}</div>')
        return
    is_open = root or not node.inconsequential
    out.append(f'<details class="{classes}"{" open" if is_open else ""}>')
    out.append(f"<summary>{_title(node)}</summary>")
    out.append('<div class="node-body">')
    if node.comment is not None:
        lines = split_lines(node.comment) or [""]
        comment = "<br>".join(escape(line) for line in lines)
        out.append(f'<p class="comment">{comment}</p>')
    if node.unified_diff is not None:
        out.append(_table(node.unified_diff))
    for child in node.children:
        _node(child, out)
    out.append("</div>")
    out.append("</details>")


def _legend() -> str:
    def group(heading: str, categories: list[Category]) -> str:
        items = "\n".join(
            f"<dt>{_badge(c)}</dt><dd>{html.escape(CATEGORY_DESCRIPTIONS[c])}</dd>"
            for c in categories
        )
        return f"<div><h2>{heading}</h2>\n<dl>\n{items}\n</dl></div>"

    consequential = [c for c in Category if c not in INCONSEQUENTIAL]
    inconsequential = [c for c in Category if c in INCONSEQUENTIAL]
    return "\n".join(
        [
            '<section class="legend" aria-label="legend">',
            group("Consequential: can change what gets installed", consequential),
            group("Inconsequential (dashed): cannot change what gets installed", inconsequential),
            "</section>",
        ]
    )


def render_tree(diff: Difference) -> str:
    """The collapsible tree of ``diff`` alone: nested ``<details>``, for a page of
    :func:`html_page`."""
    tree: list[str] = []
    _node(diff, tree, root=True)
    return "\n".join(tree)


def verdict_class(diff: Difference) -> str:
    """``identical``, ``inconsequential`` or ``consequential``: the CSS class of a summary."""
    if not diff.counts():
        return "identical"
    return "inconsequential" if diff.inconsequential else "consequential"


def html_page(
    *,
    title: str,
    header: Sequence[str],
    main: Sequence[str],
    legend: bool = True,
    style: str = "",
    buttons: bool = True,
    head: Sequence[str] = (),
) -> str:
    """A whole self-contained page: ``title`` (plain text), then the ``header`` and ``main``
    fragments (HTML, already escaped), the tree's buttons (unless not ``buttons``) and, with
    ``legend``, the categories; ``style`` is added to the style sheet and ``head`` (HTML) to
    the page's head."""
    page = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="reprobuild {html.escape(__version__)}">',
        *head,
        f"<title>{escape(title)}</title>",
        f"<style>\n{_STYLE}{style}</style>",
        "</head>",
        "<body>",
        "<header>",
        *header,
        *(
            [
                "<nav>",
                f'<button type="button" onclick="{_EXPAND}">expand all</button>',
                f'<button type="button" onclick="{_COLLAPSE}">collapse all</button>',
                f'<label><input type="checkbox" onchange="{_HIDE}"> hide inconsequential</label>',
                "</nav>",
            ]
            if buttons
            else []
        ),
        *([_legend()] if legend else []),
        "</header>",
        "<main>",
        *main,
        "</main>",
        f"<footer>made by reprobuild {html.escape(__version__)}</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(page) + "\n"


def render_html(diff: Difference) -> str:
    """The whole page for ``diff`` (see the module's docstring), ending with a newline."""
    if diff.source_a == diff.source_b:
        heading = escape(diff.source_a)
        title = diff.source_a
    else:
        heading = f'{escape(diff.source_a)} <span class="vs">vs</span> {escape(diff.source_b)}'
        title = f"{diff.source_a} vs {diff.source_b}"
    return html_page(
        title=f"reprobuild diff: {title}",
        header=[
            f"<h1>{heading}</h1>",
            f'<p class="verdict {verdict_class(diff)}">{html.escape(diff.summary())}</p>',
        ],
        main=[render_tree(diff)],
    )
