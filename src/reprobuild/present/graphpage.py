"""One self-contained HTML page for a graph's report (``reprobuild graph --format html``): the
totals, then one row per step in build order, with its status, what changed, what it cut off,
what it needed, its time and its outputs. It is made from the report's JSON document, so a page
can be made again from a saved report; every piece of text is escaped."""

from __future__ import annotations

from collections.abc import Mapping

from reprobuild.present.htmlpage import escape, html_page

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild._types import JSONValue

__all__ = ["render_graph_html"]

#: status -> (words, style class)
_STATUS = {
    "cache-hit": ("cache hit", "hit"),
    "remote-hit": ("cache hit (remote)", "hit"),
    "built": ("built", "built"),
    "rebuilt-unchanged": ("rebuilt, unchanged", "cut"),
    "rebuilt-changed": ("rebuilt, changed", "built"),
    "failed": ("failed", "failed"),
    "skipped": ("skipped", "failed"),
    "would-build": ("would be built", "built"),
    "seeded": ("seed (published wheel)", "cut"),
    "waits": ("waits", "hit"),
}

_STYLE = """\
table.steps { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
table.steps th, table.steps td { border-bottom: 1px solid var(--line); padding: 0.25rem 0.5rem;
  text-align: left; vertical-align: top; }
table.steps td.num { text-align: right; white-space: nowrap; }
table.steps code { font-size: 0.85em; }
span.status { border-radius: 0.25rem; padding: 0 0.35rem; white-space: nowrap; }
span.hit { background: #e6f4ea; color: #1e6b34; }
span.cut { background: #e7eefb; color: #1d4f9c; }
span.built { background: #fff4e0; color: #8a5300; }
span.failed { background: #fde8e8; color: #a11d1d; }
"""


def _text(value: JSONValue | None) -> str:
    return "" if value is None else str(value)


def _step(node: Mapping[str, JSONValue]) -> str:
    status = _text(node.get("status"))
    words, style = _STATUS.get(status, (status, "built"))
    notes = []
    cut = node.get("cut_off")
    if isinstance(cut, int) and cut:
        notes.append(f"cut off {cut} dependent{'s' if cut != 1 else ''}")
    changed = node.get("changed")
    if isinstance(changed, list) and changed and status not in ("cache-hit", "remote-hit"):
        notes.append("changed: " + ", ".join(_text(c) for c in changed))
    if node.get("because"):
        notes.append(f"needs {_text(node.get('because'))}")
    if node.get("error"):
        notes.append(_text(node.get("error")).splitlines()[0])
    deps = node.get("deps")
    needed = ", ".join(_text(d) for d in deps) if isinstance(deps, list) else ""
    outputs = node.get("outputs")
    files = []
    if isinstance(outputs, list):
        for item in outputs:
            if isinstance(item, dict):
                name, digest = _text(item.get("name")), _text(item.get("sha256"))
                files.append(f"{escape(name)} <code>{escape(digest[:16])}</code>")
    seconds = node.get("seconds")
    time_text = f"{seconds:.1f} s" if isinstance(seconds, float | int) and seconds else ""
    return (
        f"<tr><td>{escape(_text(node.get('id')))}</td>"
        f'<td><span class="status {style}">{escape(words)}</span></td>'
        f"<td>{escape('; '.join(notes))}</td>"
        f"<td>{escape(needed)}</td>"
        f'<td class="num">{escape(time_text)}</td>'
        f"<td>{'<br>'.join(files)}</td></tr>"
    )


def render_graph_html(doc: Mapping[str, JSONValue]) -> str:
    """The whole page for the report ``doc`` (``reprobuild graph --format json``'s document),
    ending with a newline."""
    nodes = doc.get("nodes")
    steps = [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []
    counts = doc.get("counts")
    summary = (
        ", ".join(f"{v} {_STATUS.get(k, (k, ''))[0]}" for k, v in sorted(counts.items()) if v)
        if isinstance(counts, dict)
        else ""
    )
    builds = doc.get("builds")
    failed = isinstance(counts, dict) and bool(counts.get("failed"))
    verdict = (
        f"{len(steps)} steps: {summary}. Builds: {_text(builds)}, where rebuilding everything "
        f"would run {len(steps)}."
    )
    seconds = doc.get("seconds")
    facts = [
        f"executor: {_text(doc.get('executor'))}",
        f"build requirements as of {_text(doc.get('exclude_newer'))}",
        *([f"{seconds:.1f} s"] if isinstance(seconds, float | int) else []),
    ]
    seeds = doc.get("seeds")
    seed_items = (
        [
            f"<li>{escape(_text(x.get('name')))} {escape(_text(x.get('version')))}: "
            f"{escape(_text(x.get('reason')))}</li>"
            for x in seeds
            if isinstance(x, dict)
        ]
        if isinstance(seeds, list)
        else []
    )
    main = [
        f"<p>{escape('; '.join(facts))}</p>",
        *(
            [
                "<p>Seeds: published wheels used where the graph could not build the wheel "
                "from its sdist:</p>",
                "<ul>",
                *seed_items,
                "</ul>",
            ]
            if seed_items
            else []
        ),
        '<table class="steps">',
        "<thead><tr><th>step</th><th>status</th><th>why</th><th>needs</th><th>time</th>"
        "<th>outputs (sha256)</th></tr></thead>",
        "<tbody>",
        *(_step(n) for n in steps),
        "</tbody>",
        "</table>",
        "<p>A cache hit is a claim, not a rebuild: the step's result was found by its key and "
        "its outputs checked against their digests. A step rebuilt unchanged gives the steps "
        "after it the keys they had, so they are found in the cache (early cutoff).</p>",
    ]
    return html_page(
        title="reprobuild graph",
        header=[
            "<h1>reprobuild graph</h1>",
            f'<p class="verdict {"consequential" if failed else "identical"}">'
            f"{escape(verdict)}</p>",
        ],
        main=main,
        legend=False,
        style=_STYLE,
    )
