"""The HTML page of ``reprobuild verify``: one self-contained file for one release or a batch.

The page opens with a table of every artifact and its verdict, each row linking to the
artifact's section below: the cause, both sha256s, the recipe with the evidence of every field
read (and whether an override was used), what was fitted by trying values against the
published file (with the number of tries), the tail of the build's log, and the difference
tree, drawn
as ``reprobuild diff --format html`` draws it. Like that page it is one file with nothing
outside it, so it can be kept as a CI artifact or published as a record of what was found.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from reprobuild._types import JSONValue
from reprobuild.present.htmlpage import escape, html_page, render_tree
from reprobuild.rebuild.document import describe_rebuild
from reprobuild.rebuild.verify import ArtifactResult, Verdict, Verification

__all__ = ["verification_page"]

_STYLE = """\
.verdict.reproducible { color: var(--good); }
.verdict.equivalent { color: var(--warn); }
.verdict.different, .verdict.build-failed { color: var(--bad); }
.verdict.not-verifiable { color: var(--muted); }
table.results, table.recipe { border-collapse: collapse; margin: 0.5rem 0 1rem; }
table.results th, table.results td, table.recipe th, table.recipe td {
  border: 1px solid var(--line); padding: 0.2rem 0.6rem; text-align: left;
  vertical-align: top; }
table.results th, table.recipe th { background: var(--note); }
section.artifact { border-top: 1px solid var(--line); padding-top: 0.75rem; margin-top: 1rem; }
section.artifact h2 { font-family: ui-monospace, monospace; word-break: break-all; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 0.75rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
pre.log { background: var(--note); padding: 0.5rem; overflow-x: auto; font-size: 12px; }
"""


def _verdict(result: ArtifactResult) -> str:
    """The verdict, with what it rests on besides reading (fitted fields, steps)."""
    value = escape(result.verdict.value)
    text = escape(result.verdict_text)
    return f'<span class="verdict {value}">{text}</span>'


def _anchor(index: int) -> str:
    return f"artifact-{index}"


def _recipe(result: ArtifactResult) -> list[str]:
    recipe = result.recipe
    if recipe is None:
        return []
    used = f"override used: {escape(recipe.override)}" if recipe.override else "no override used"
    rows = [
        f"<tr><td><code>{escape(e.field)}</code></td><td><code>{escape(e.value or '-')}</code></td>"
        f"<td>{escape(e.reason)}</td></tr>"
        for e in recipe.evidence
    ]
    out = [
        f"<h3>Recipe ({used})</h3>",
        '<table class="recipe">',
        "<thead><tr><th>field</th><th>value</th><th>evidence</th></tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
    ]
    if recipe.fitted:
        fitted = [
            f"<tr><td><code>{escape(f.field)}</code></td><td><code>{escape(f.value)}</code></td>"
            f"<td>{f.tries}</td><td>{escape(f.against)}</td><td>{escape(f.reason)}</td></tr>"
            for f in recipe.fitted
        ]
        out += [
            "<h3>Fitted (chosen by trying values against the published file, not read)</h3>",
            '<table class="recipe">',
            "<thead><tr><th>field</th><th>value</th><th>tries</th><th>scored against</th>"
            "<th>why</th></tr></thead>",
            "<tbody>",
            *fitted,
            "</tbody>",
            "</table>",
        ]
    return out


def _sandbox(record: Mapping[str, JSONValue]) -> str:
    """The sandbox a rebuild ran in, in a few words: ``bwrap 0.11.0, limits 900 s …``."""
    kind = str(record.get("kind", "?"))
    if kind == "none":
        return "none: the build ran with all the rights of the user who ran it"
    limits = record.get("limits")
    text = f"{kind} {record.get('version', '')}".strip()
    if isinstance(limits, dict):
        text += ", limits " + ", ".join(f"{k} {v}" for k, v in limits.items())
    return text


def _artifact(index: int, verification: Verification, result: ArtifactResult) -> list[str]:
    facts = [
        ("release", f"{verification.name} {verification.version}"),
        ("rebuilt from", verification.sdist or "-"),
        ("published sha256", result.sha256 or "-"),
    ]
    if result.rebuilt_sha256:
        facts.append(("rebuilt sha256", result.rebuilt_sha256))
        facts.append(("rebuilt", describe_rebuild(result.rebuild)))
    if result.rebuilt_filename and result.rebuilt_filename != result.filename:
        facts.append(("rebuilt file", result.rebuilt_filename))
    if result.cause:
        facts.append(("cause", result.cause))
    facts.extend(("with step", step) for step in result.steps)
    if result.difference is not None:
        facts.append(("differences", result.difference.summary()))
    facts.extend(("contained by the sandbox", said) for said in result.contained)
    if result.recipe is not None and verification.sandbox:
        facts.append(("sandbox", _sandbox(verification.sandbox)))
    facts.append(("time", f"{result.seconds:.1f} s"))
    out = [
        f'<section class="artifact" id="{_anchor(index)}">',
        f"<h2>{escape(result.filename)}: {_verdict(result)}</h2>",
        '<dl class="facts">',
        *(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts),
        "</dl>",
        *_recipe(result),
    ]
    if result.log_tail:
        log = "\n".join(escape(line) for line in result.log_tail.split("\n"))
        out += ["<h3>Build log (last lines)</h3>", f'<pre class="log">{log}</pre>']
    if result.difference is not None:
        out += ["<h3>Differences</h3>", render_tree(result.difference)]
    out.append("</section>")
    return out


def verification_page(verifications: Sequence[Verification]) -> str:
    """The whole page for the results of one or more releases."""
    pairs = [(v, r) for v in verifications for r in v.results]
    counts = Counter(r.verdict for _, r in pairs)
    summary = ", ".join(f"{counts[v]} {v.value}" for v in Verdict if counts[v]) or "no artifact"
    if len(verifications) == 1:
        only = verifications[0]
        title = f"reprobuild verify: {only.name} {only.version}"
    else:
        title = f"reprobuild verify: {len(verifications)} releases"
    rows = [
        f'<tr><td><a href="#{_anchor(i)}">{escape(r.filename)}</a></td>'
        f"<td>{_verdict(r)}</td><td>{escape(r.cause)}</td></tr>"
        for i, (_, r) in enumerate(pairs)
    ]
    header = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{escape(summary)}</p>",
        '<table class="results">',
        "<thead><tr><th>artifact</th><th>verdict</th><th>cause</th></tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
    ]
    main: list[str] = []
    for i, (verification, result) in enumerate(pairs):
        main += _artifact(i, verification, result)
    has_tree = any(r.difference is not None for _, r in pairs)
    return html_page(title=title, header=header, main=main, legend=has_tree, style=_STYLE)
