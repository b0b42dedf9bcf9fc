"""The results dashboard: a static site made from the recorded verify attempts.

:func:`render_dashboard` returns the site's files, each a relative path and its text; the
caller writes them. The site needs no server and refers to nothing outside itself:

- ``index.html`` — the share of files found reproducible, in words and in three plots (by
  build backend, by upload year, over time), then the table of releases: searched and filtered
  by a small inline script over an embedded JSON array, shown a page of rows at a time, so
  that ten thousand releases open as fast as ten. The first page of rows is written in the
  HTML as well, so the table shows before the script runs, and without it.
- ``releases/<name>-<version>.html`` — one page per release: its files with the verdict of
  the last attempt (and a link to each one's attestation, when one was given), then every
  attempt, newest first, each file with its verdict, categories, cause, digests, recipe with
  its evidence and difference tree.

A release is a project name (compared as PEP 503 does) and a version. Its verdict is the least
reproducible of its files' in its last attempt (the rows recorded together with its newest
row). The rates count files, each as of its release's last attempt; the plot over time counts
every attempt in the month (or the day, when all are within two months) it ran.

Names come from a package index and are treated as hostile: every piece of text is escaped,
the embedded JSON cannot close its ``<script>`` element, the script builds rows with
``textContent`` only, and a page's file name keeps only ``[A-Za-z0-9._+-]`` (a name that loses
anything, or meets another's on a case-insensitive file system, gets a digest of the original
appended). A Content-Security-Policy in every page forbids loading anything.

Pure: the same attempts give the same bytes; no clock, no environment, no file access.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

from packaging.utils import canonicalize_name

from reprobuild.compare.difference import Difference
from reprobuild.present.dashboardplot import (
    PLOT_STYLE,
    VERDICT_ORDER,
    render_bars,
    render_columns,
    render_key,
)
from reprobuild.present.htmlpage import escape, html_page, render_tree

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild._types import JSONValue

__all__ = [
    "INDEX",
    "PAGE_ROWS",
    "RecordedAttempt",
    "backend_of",
    "release_slug",
    "render_dashboard",
    "safe_name",
    "upload_year_of",
]

#: The index page's path in the site.
INDEX = "index.html"

#: Rows of the releases table shown at a time.
PAGE_ROWS = 100

#: Wheels made by setuptools with the ``wheel`` package's bdist_wheel name ``wheel`` as their
#: generator: the backend is setuptools.
_BACKEND_NAMES: Mapping[str, str] = MappingProxyType({"wheel": "setuptools"})

_UNKNOWN = "unknown"
_LOCAL = "local file"

_SAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

#: Pages may load nothing: styles and scripts are inline, the icon is empty.
_HEAD = (
    '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
    '<link rel="icon" href="data:,">',
)

_STYLE = (
    PLOT_STYLE
    + """\
a { color: inherit; }
h3 { font-size: 0.95rem; margin: 0.75rem 0 0.35rem; }
.mark { display: inline-block; padding: 0 0.45rem; border-radius: 1rem; font-size: 12px;
  font-weight: 600; color: #fff; white-space: nowrap; }
.mark.seg-error { color: var(--bg); }
section.part { border-top: 1px solid var(--line); padding: 0.5rem 0 0.75rem; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 45rem), 1fr));
  gap: 0.5rem 2rem; }
.plots figure { margin: 0; }
.plots figcaption { font-weight: 600; margin: 0.5rem 0 0.25rem; }
.filters { display: flex; gap: 0.5rem 0.75rem; flex-wrap: wrap; align-items: center;
  margin: 0.5rem 0; }
.filters input[type=search] { min-width: 18rem; }
.filters input, .filters select { font: inherit; padding: 0.15rem 0.35rem; }
table.rows { border-collapse: collapse; width: 100%; margin: 0.5rem 0; }
table.rows th, table.rows td { border-bottom: 1px solid var(--line); padding: 0.2rem 0.5rem;
  text-align: left; vertical-align: top; }
table.rows td.num { text-align: right; white-space: nowrap; }
table.rows td.cause { color: var(--muted); max-width: 40rem; overflow-wrap: anywhere; }
table.rows td.digest { font-family: ui-monospace, monospace; font-size: 12px; }
table.rows td.day { white-space: nowrap; }
nav.pager { justify-content: flex-start; }
dl.recipe { display: grid; grid-template-columns: max-content auto; gap: 0.1rem 0.75rem;
  margin: 0.35rem 0; }
dl.recipe dd { margin: 0; overflow-wrap: anywhere; }
details.more { margin: 0.25rem 0 0.5rem; }
"""
)

#: The table's script: reads the embedded rows, filters, sorts and shows one page at a time.
#: Rows are built with textContent only; the row's page link is made of its file name, which
#: keeps only safe characters.
_SCRIPT = """\
(function () {
  'use strict';
  var PAGE = %(page)d;
  var data = JSON.parse(document.getElementById('release-data').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var q = $('q'), fVerdict = $('f-verdict'), fBackend = $('f-backend'), fYear = $('f-year');
  var sort = $('sort'), body = $('release-rows'), shown = $('shown'), where = $('page');
  var prev = $('prev'), next = $('next');
  var rank = %(rank)s;
  var text = data.map(function (r) {
    return (r[1] + ' ' + r[2] + ' ' + r[4] + ' ' + r[9]).toLowerCase();
  });
  var order = data.map(function (r, i) { return i; });
  var rows = order, page = 0;
  function cell(tr, value, css) {
    var td = document.createElement('td');
    td.textContent = value;
    if (css) { td.className = css; }
    tr.appendChild(td);
    return td;
  }
  function render() {
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    if (page >= pages) { page = pages - 1; }
    var fragment = document.createDocumentFragment();
    var end = Math.min(rows.length, (page + 1) * PAGE);
    for (var i = page * PAGE; i < end; i++) {
      var r = data[rows[i]], tr = document.createElement('tr');
      var link = document.createElement('a');
      link.href = 'releases/' + encodeURIComponent(r[0]) + '.html';
      link.textContent = r[1] + ' ' + r[2];
      cell(tr, '').appendChild(link);
      var mark = document.createElement('span');
      mark.className = 'mark seg-' + (rank[r[3]] === undefined ? 'error' : r[3]);
      mark.textContent = r[3];
      cell(tr, '').appendChild(mark);
      cell(tr, r[6]); cell(tr, r[4]); cell(tr, r[5]);
      cell(tr, String(r[7]), 'num'); cell(tr, r[8], 'day'); cell(tr, r[9], 'cause');
      fragment.appendChild(tr);
    }
    body.replaceChildren(fragment);
    shown.textContent = rows.length === data.length
      ? data.length + ' releases'
      : rows.length + ' of ' + data.length + ' releases';
    where.textContent = 'page ' + (page + 1) + ' of ' + pages;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }
  function sorted() {
    var by = sort.value, copy = order.slice();
    if (by === 'newest') {
      copy.sort(function (a, b) {
        return data[a][8] < data[b][8] ? 1 : data[a][8] > data[b][8] ? -1 : a - b;
      });
    } else if (by === 'verdict') {
      copy.sort(function (a, b) {
        return (rank[data[b][3]] || 0) - (rank[data[a][3]] || 0) || a - b;
      });
    }
    return copy;
  }
  function apply() {
    var words = q.value.trim().toLowerCase().split(/\\s+/).filter(Boolean);
    var v = fVerdict.value, b = fBackend.value, y = fYear.value;
    rows = sorted().filter(function (i) {
      var r = data[i];
      if ((v && r[3] !== v) || (b && r[4] !== b) || (y && r[5] !== y)) { return false; }
      for (var w = 0; w < words.length; w++) {
        if (text[i].indexOf(words[w]) < 0) { return false; }
      }
      return true;
    });
    page = 0;
    render();
  }
  q.addEventListener('input', apply);
  [fVerdict, fBackend, fYear, sort].forEach(function (s) { s.addEventListener('change', apply); });
  prev.addEventListener('click', function () { page -= 1; render(); });
  next.addEventListener('click', function () { page += 1; render(); });
  if (q.value || fVerdict.value || fBackend.value || fYear.value || sort.value !== 'name') {
    apply();
  } else {
    render();
  }
  document.body.classList.add('ready');
})();
"""


class RecordedAttempt(Protocol):
    """One recorded attempt at one file (what ``reprobuild.rebuild.history`` lists)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def filename(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def cause(self) -> str: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def sha256(self) -> str: ...
    @property
    def rebuilt_sha256(self) -> str | None: ...
    @property
    def override(self) -> str | None: ...
    @property
    def started(self) -> str: ...
    @property
    def seconds(self) -> float: ...
    @property
    def tool_version(self) -> str: ...
    @property
    def origin(self) -> str | None: ...
    @property
    def sandbox(self) -> str | None: ...
    @property
    def recipe(self) -> Mapping[str, JSONValue] | None: ...
    @property
    def difference(self) -> Difference | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class _Release:
    """A release's attempts (oldest first) and what the site says of it."""

    slug: str
    name: str
    version: str
    attempts: tuple[RecordedAttempt, ...]
    latest: tuple[RecordedAttempt, ...]
    verdict: str
    backend: str
    uploaded: str

    @property
    def page(self) -> str:
        return f"releases/{self.slug}.html"


def backend_of(recipe: Mapping[str, JSONValue] | None) -> str | None:
    """The build backend a recipe installs: the name of its first requirement (the one the
    wheel's generator named), PEP 503-normalized; None without one."""
    requirements = recipe.get("requirements") if recipe else None
    if not isinstance(requirements, list) or not requirements:
        return None
    first = requirements[0]
    found = _REQUIREMENT_NAME.match(first) if isinstance(first, str) else None
    if found is None:
        return None
    name = canonicalize_name(found.group())
    return _BACKEND_NAMES.get(name, name)


def upload_year_of(recipe: Mapping[str, JSONValue] | None) -> str | None:
    """The year the published file was uploaded, from the recipe's evidence for its cut-off
    date (``uploaded TIME``); None when the cut-off came from anything else (a local file)."""
    evidence = recipe.get("evidence") if recipe else None
    if not isinstance(evidence, list):
        return None
    for item in evidence:
        if not isinstance(item, dict) or item.get("field") != "exclude_newer":
            continue
        reason, value = item.get("reason"), item.get("value")
        if isinstance(reason, str) and reason.startswith("uploaded ") and isinstance(value, str):
            year = value[:4]
            return year if year.isdigit() else None
    return None


def safe_name(text: str, *, taken: AbstractSet[str] = frozenset()) -> str:
    """``text`` as a file name that is safe anywhere: only ``[A-Za-z0-9._+-]``, never starting
    with a dot or a dash, at most 100 characters; a name that lost anything, or whose
    casefolded form is in ``taken`` (names already used, casefolded), ends with 10 hex digits
    of the original's sha256."""
    name = (_SAFE.sub("_", text).lstrip(".-") or "_")[:100]
    if name != text or name.casefold() in taken:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
        name = f"{name[:89]}-{digest}"
    return name


def release_slug(name: str, version: str, *, taken: AbstractSet[str] = frozenset()) -> str:
    """The file name (without ``.html``) of a release's page: ``name-version``, made safe by
    :func:`safe_name`."""
    return safe_name(f"{name}-{version}", taken=taken)


def _rank(verdict: str) -> int:
    return VERDICT_ORDER.index(verdict) if verdict in VERDICT_ORDER else len(VERDICT_ORDER)


def _releases(attempts: Iterable[RecordedAttempt]) -> list[_Release]:
    grouped: dict[tuple[str, str], list[RecordedAttempt]] = defaultdict(list)
    for attempt in attempts:
        grouped[(canonicalize_name(attempt.name), attempt.version)].append(attempt)
    releases: list[_Release] = []
    taken: set[str] = set()
    for key in sorted(grouped):
        rows = sorted(grouped[key], key=lambda a: a.id)
        last = rows[-1]
        latest = tuple(a for a in rows if a.started == last.started)
        verdict = max((a.verdict for a in latest), key=_rank)
        recipes = [a.recipe for a in reversed(rows) if a.recipe]
        backend = next((b for b in map(backend_of, recipes) if b), _UNKNOWN)
        year = next((y for y in map(upload_year_of, recipes) if y), None)
        uploaded = year or (_LOCAL if last.origin == "local" else _UNKNOWN)
        slug = release_slug(last.name, last.version, taken=taken)
        taken.add(slug.casefold())
        releases.append(
            _Release(
                slug=slug,
                name=last.name,
                version=last.version,
                attempts=tuple(rows),
                latest=latest,
                verdict=verdict,
                backend=backend,
                uploaded=uploaded,
            )
        )
    return releases


def _verdict_class(verdict: str) -> str:
    if verdict == "reproducible":
        return "identical"
    return "inconsequential" if verdict == "equivalent" else "consequential"


def _mark(verdict: str) -> str:
    css = f"seg-{verdict}" if verdict in VERDICT_ORDER else "seg-error"
    return f'<span class="mark {css}">{escape(verdict)}</span>'


def _counted(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda i: _rank(i[0])))


def _day(started: str) -> str:
    return started[:10]


def _cause(release: _Release) -> str:
    worst = [a for a in release.latest if a.verdict == release.verdict and a.cause]
    return worst[0].cause if worst else ""


def _table_row(release: _Release) -> list[JSONValue]:
    files = Counter(a.verdict for a in release.latest if a.filename)
    return [
        release.slug,
        release.name,
        release.version,
        release.verdict,
        release.backend,
        release.uploaded,
        _counted(files) if files else "no file judged",
        len({a.started for a in release.attempts}),
        _day(release.attempts[-1].started),
        _cause(release),
    ]


def _row_html(row: Sequence[JSONValue]) -> str:
    slug, name, version, verdict, backend, uploaded, files, attempts, last, cause = (
        str(v) for v in row
    )
    return (
        f'<tr><td><a href="releases/{html.escape(slug)}.html">{escape(name)} '
        f"{escape(version)}</a></td><td>{_mark(verdict)}</td><td>{escape(files)}</td>"
        f"<td>{escape(backend)}</td><td>{escape(uploaded)}</td>"
        f'<td class="num">{escape(attempts)}</td><td class="day">{escape(last)}</td>'
        f'<td class="cause">{escape(cause)}</td></tr>'
    )


def _json_for_script(value: Sequence[Sequence[JSONValue]]) -> str:
    """JSON that cannot end the ``<script>`` element holding it, nor open a comment."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _options(element: str, label: str, values: Iterable[str], every: str) -> str:
    options = "".join(
        f'<option value="{escape(v)}">{escape(v)}</option>' for v in sorted(set(values))
    )
    return (
        f'<label>{escape(label)} <select id="{element}">'
        f'<option value="">{escape(every)}</option>{options}</select></label>'
    )


def _periods(attempts: Sequence[RecordedAttempt]) -> list[tuple[str, Counter[str]]]:
    months = {a.started[:7] for a in attempts}
    width = 10 if len(months) <= 2 else 7
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for attempt in attempts:
        counts[attempt.started[:width]][attempt.verdict] += 1
    return sorted(counts.items())[-60:]


def _groups(
    releases: Sequence[_Release], key: str, *, order: Sequence[str] = ()
) -> list[tuple[str, Counter[str]]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for release in releases:
        for attempt in release.latest:
            counts[getattr(release, key)][attempt.verdict] += 1
    if order:
        return sorted(counts.items(), key=lambda i: (i[0] in order, i[0]))
    return sorted(counts.items(), key=lambda i: (-sum(i[1].values()), i[0]))


def _index(releases: Sequence[_Release], attempts: Sequence[RecordedAttempt]) -> str:
    files = Counter(a.verdict for r in releases for a in r.latest)
    total = sum(files.values())
    good = files.get("reproducible", 0)
    runs = sum(len({a.started for a in r.attempts}) for r in releases)
    if total:
        share = f"{100 * good / total:.0f}%"
        verdict = (
            f"{good} of {total} files reproducible bit for bit ({share}), "
            f"{files.get('equivalent', 0)} equivalent after normalization, in their release's "
            f"last attempt. {len(releases)} releases, {runs} attempts"
        )
        days = sorted(_day(a.started) for a in attempts)
        verdict += f", from {days[0]} to {days[-1]}." if days[0] != days[-1] else f", {days[0]}."
        css = "identical" if good == total else "consequential"
    else:
        verdict, css = "No attempt recorded.", "consequential"
    rows = [_table_row(r) for r in releases]
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    plots = [
        '<section class="part" aria-label="rates">',
        f"<h2>Verdicts of {total} files</h2>",
        f"<p>{escape(_counted(files))}</p>" if files else "",
        render_key(),
        '<div class="plots">',
        "<figure><figcaption>By build backend</figcaption>",
        render_bars(_groups(releases, "backend"), label="verdicts by build backend"),
        "</figure>",
        "<figure><figcaption>By upload year</figcaption>",
        render_bars(
            _groups(releases, "uploaded", order=(_UNKNOWN, _LOCAL)),
            label="verdicts by upload year",
        ),
        "</figure>",
        "<figure><figcaption>Over time: every attempt, by when it ran</figcaption>",
        render_columns(_periods(attempts), label="verdicts over time"),
        "</figure>",
        "</div>",
        "</section>",
    ]
    table = [
        '<section class="part" aria-label="releases">',
        "<h2>Releases</h2>",
        '<div class="filters">',
        '<input type="search" id="q" placeholder="search names, versions, causes" '
        'aria-label="search names, versions, causes">',
        _options("f-verdict", "verdict", (r.verdict for r in releases), "any"),
        _options("f-backend", "backend", (r.backend for r in releases), "any"),
        _options("f-year", "uploaded", (r.uploaded for r in releases), "any"),
        '<label>sort <select id="sort"><option value="name">by name</option>'
        '<option value="newest">newest attempt first</option>'
        '<option value="verdict">least reproducible first</option></select></label>',
        f'<span id="shown" class="counts">{len(rows)} releases</span>',
        "</div>",
        '<table class="rows" id="releases">',
        "<thead><tr><th>release</th><th>verdict</th><th>files</th><th>backend</th>"
        "<th>uploaded</th><th>attempts</th><th>last</th><th>cause</th></tr></thead>",
        '<tbody id="release-rows">',
        *(_row_html(row) for row in rows[:PAGE_ROWS]),
        "</tbody>",
        "</table>",
        '<nav class="pager"><button type="button" id="prev" disabled>previous</button>'
        f'<span id="page" class="counts">page 1 of {max(1, -(-len(rows) // PAGE_ROWS))}</span>'
        '<button type="button" id="next">next</button></nav>',
        f'<script type="application/json" id="release-data">{_json_for_script(rows)}</script>',
        "<script>",
        _SCRIPT % {"page": PAGE_ROWS, "rank": json.dumps(rank)},
        "</script>",
        "</section>",
    ]
    return html_page(
        title="reprobuild results",
        header=[
            "<h1>reprobuild results</h1>",
            f'<p class="verdict {css}">{escape(verdict)}</p>',
        ],
        main=[*plots, *table],
        legend=False,
        style=_STYLE,
        buttons=False,
        head=_HEAD,
    )


def _value(value: JSONValue) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _recipe(recipe: Mapping[str, JSONValue]) -> list[str]:
    out = ['<dl class="recipe">']
    for key, value in recipe.items():
        if key != "evidence":
            out.append(f"<dt>{escape(key)}</dt><dd>{escape(_value(value))}</dd>")
    out.append("</dl>")
    evidence = recipe.get("evidence")
    if isinstance(evidence, list) and evidence:
        out.append('<table class="rows"><thead><tr><th>field</th><th>value</th><th>evidence</th>')
        out.append("</tr></thead><tbody>")
        for item in evidence:
            if isinstance(item, dict):
                out.append(
                    f"<tr><td>{escape(_value(item.get('field')))}</td>"
                    f"<td>{escape(_value(item.get('value')))}</td>"
                    f"<td>{escape(_value(item.get('reason')))}</td></tr>"
                )
        out.append("</tbody></table>")
    return out


def _digest(digest: str | None, *, same: str | None = None) -> str:
    """A digest's cell: its first 16 digits, the whole in the cell's title; ``same`` when it
    is ``same``."""
    if not digest:
        return '<td class="digest"></td>'
    shown = "same" if digest == same else digest[:16] + "…"
    return f'<td class="digest" title="{escape(digest)}">{escape(shown)}</td>'


def _run(run: Sequence[RecordedAttempt]) -> list[str]:
    first = run[0]
    facts = [_day(first.started) + " " + first.started[11:19], f"reprobuild {first.tool_version}"]
    if first.origin:
        facts.append(f"files from the {first.origin}" if first.origin == "index" else "local files")
    boxes = sorted({a.sandbox for a in run if a.sandbox})
    if boxes:
        facts.append("sandbox: " + ", ".join(boxes))
    out = [
        '<section class="part attempt">',
        f"<h3>{escape(' · '.join(facts))}</h3>",
        '<table class="rows"><thead><tr><th>file</th><th>verdict</th><th>categories</th>'
        "<th>cause</th><th>seconds</th><th>published sha256</th><th>rebuilt sha256</th>"
        "</tr></thead><tbody>",
    ]
    for a in run:
        out.append(
            f"<tr><td>{escape(a.filename) or '—'}</td><td>{_mark(a.verdict)}</td>"
            f"<td>{escape(', '.join(a.categories))}</td>"
            f'<td class="cause">{escape(a.cause)}</td>'
            f'<td class="num">{a.seconds:.1f}</td>'
            f"{_digest(a.sha256)}{_digest(a.rebuilt_sha256, same=a.sha256)}</tr>"
        )
    out.append("</tbody></table>")
    for a in run:
        if a.recipe:
            out.append('<details class="more">')
            override = f" (override {a.override})" if a.override else ""
            out.append(f"<summary>recipe of {escape(a.filename)}{escape(override)}</summary>")
            out.extend(_recipe(a.recipe))
            out.append("</details>")
        if a.difference is not None:
            out.append('<details class="more">')
            out.append(
                f"<summary>difference tree of {escape(a.filename)}: "
                f"{escape(a.difference.summary())}</summary>"
            )
            out.append(render_tree(a.difference))
            out.append("</details>")
    out.append("</section>")
    return out


def _release_page(release: _Release, attestations: Mapping[str, str]) -> str:
    runs: dict[str, list[RecordedAttempt]] = defaultdict(list)
    for attempt in release.attempts:
        runs[attempt.started].append(attempt)
    ordered = sorted(runs.values(), key=lambda run: run[-1].id, reverse=True)
    files = [a for a in release.latest if a.filename]
    linked = any(a.filename in attestations for a in files)
    head = "<th>attestation</th>" if linked else ""
    main = [
        '<section class="part">',
        "<h2>Files, in the last attempt</h2>",
        f'<table class="rows"><thead><tr><th>file</th><th>verdict</th><th>cause</th>{head}'
        "</tr></thead><tbody>",
    ]
    for a in files:
        link = ""
        if linked:
            where = attestations.get(a.filename)
            link = (
                f'<td><a href="../{html.escape(where)}">attestation</a></td>'
                if where
                else "<td>—</td>"
            )
        main.append(
            f"<tr><td>{escape(a.filename)}</td><td>{_mark(a.verdict)}</td>"
            f'<td class="cause">{escape(a.cause)}</td>{link}</tr>'
        )
    if not files:
        main.append(f'<tr><td colspan="3">{escape(_cause(release))}</td></tr>')
    main.append("</tbody></table>")
    main.append("</section>")
    main.append(f'<section class="part"><h2>Attempts ({len(ordered)}), newest first</h2>')
    for run in ordered:
        main.extend(_run(run))
    main.append("</section>")
    uploaded = (
        release.uploaded
        if release.uploaded in (_UNKNOWN, _LOCAL)
        else f"uploaded {release.uploaded}"
    )
    facts = f"backend {release.backend} · {uploaded} · {len(ordered)} attempts"
    title = f"{release.name} {release.version}"
    return html_page(
        title=f"reprobuild results: {title}",
        header=[
            '<p><a href="../index.html">all releases</a></p>',
            f"<h1>{escape(title)}</h1>",
            f'<p class="verdict {_verdict_class(release.verdict)}">'
            f"{escape(release.verdict)} in its last attempt"
            f"{escape(': ' + _cause(release) if _cause(release) else '')}</p>",
            f'<p class="counts">{escape(facts)}</p>',
        ],
        main=main,
        legend=any(a.difference is not None for a in release.attempts),
        style=_STYLE,
        buttons=any(a.difference is not None or a.recipe for a in release.attempts),
        head=_HEAD,
    )


def render_dashboard(
    attempts: Iterable[RecordedAttempt], *, attestations: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The site for ``attempts`` (see the module's docstring): each file's path, relative to
    the site's folder, and its text. ``attestations`` maps an artifact's file name to the path
    of its attestation in the site; a release page links to those of its files."""
    everything = list(attempts)
    releases = _releases(everything)
    site = {INDEX: _index(releases, everything)}
    for release in releases:
        site[release.page] = _release_page(release, attestations or {})
    return site
