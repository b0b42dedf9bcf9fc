"""The results dashboard's plots: inline SVG, drawn here, styled by the page's sheet.

Each plot shows shares of verdicts, stacked to 100%: :func:`render_bars` one horizontal bar
per group (a build backend, an upload year), :func:`render_columns` one column per period (a
month, or a day), oldest on the left. Every segment has a ``<title>`` with its count and
share, which a browser shows on hover; the counts are also written beside each bar, so the
plot reads without a mouse. Colours come from the CSS classes ``seg-<verdict>`` (see
:data:`PLOT_STYLE`), so the page's dark scheme applies to them too. Every piece of text is
escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reprobuild.present.htmlpage import escape

__all__ = ["PLOT_STYLE", "VERDICT_ORDER", "render_bars", "render_columns", "render_key"]

#: The verdicts in the order they are stacked and listed: the good ones first.
VERDICT_ORDER = (
    "reproducible",
    "equivalent",
    "different",
    "not-verifiable",
    "build-failed",
    "error",
)

#: The plots' and the verdict marks' colours, for the page's style sheet.
PLOT_STYLE = """\
:root { --v-reproducible: #1a7f37; --v-equivalent: #bf8700; --v-different: #cf222e;
  --v-not-verifiable: #8250df; --v-build-failed: #6e7781; --v-error: #24292f; }
@media (prefers-color-scheme: dark) { :root { --v-reproducible: #3fb950;
  --v-equivalent: #d29922; --v-different: #ff7b72; --v-not-verifiable: #a371f7;
  --v-build-failed: #8d96a0; --v-error: #c9d1d9; } }
.seg-reproducible { fill: var(--v-reproducible); background: var(--v-reproducible); }
.seg-equivalent { fill: var(--v-equivalent); background: var(--v-equivalent); }
.seg-different { fill: var(--v-different); background: var(--v-different); }
.seg-not-verifiable { fill: var(--v-not-verifiable); background: var(--v-not-verifiable); }
.seg-build-failed { fill: var(--v-build-failed); background: var(--v-build-failed); }
.seg-error { fill: var(--v-error); background: var(--v-error); }
svg.plot { display: block; max-width: 100%; height: auto; }
svg.plot text { fill: var(--fg); font: 12px system-ui, sans-serif; }
svg.plot text.muted { fill: var(--muted); }
svg.plot line { stroke: var(--line); }
.key { display: flex; gap: 1rem; flex-wrap: wrap; margin: 0.25rem 0 0.5rem; font-size: 12px; }
.swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px;
  vertical-align: -0.1rem; margin-right: 0.25rem; }
"""

_WIDTH = 720
_LABEL = 150  # the bars' label column
_NOTE = 170  # the bars' count column
_BAR = 18
_GAP = 6


def _ordered(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    known = [(v, counts[v]) for v in VERDICT_ORDER if counts.get(v)]
    other = sorted((v, n) for v, n in counts.items() if v not in VERDICT_ORDER and n)
    return known + other


def _css(verdict: str) -> str:
    return f"seg-{verdict}" if verdict in VERDICT_ORDER else "seg-error"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"


def _segment(*, x: float, y: float, width: float, height: float, label: str, tip: str) -> str:
    return (
        f'<rect class="{_css(label)}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}"><title>{escape(tip)}</title></rect>'
    )


def render_key(verdicts: Sequence[str] = VERDICT_ORDER) -> str:
    """The colour of each verdict, as one line of HTML."""
    items = "".join(
        f'<span><span class="swatch {_css(v)}"></span>{escape(v)}</span>' for v in verdicts
    )
    return f'<div class="key">{items}</div>'


def render_bars(groups: Sequence[tuple[str, Mapping[str, int]]], *, label: str) -> str:
    """One horizontal bar per ``(name, verdict counts)`` group, stacked to 100%, with the
    count and the reproducible share written beside it; ``label`` names the plot for screen
    readers."""
    height = max(1, len(groups)) * (_BAR + _GAP) + _GAP
    span = _WIDTH - _LABEL - _NOTE
    out = [
        f'<svg class="plot" role="img" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" '
        f'height="{height}" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for row, (name, counts) in enumerate(groups):
        y = _GAP + row * (_BAR + _GAP)
        total = sum(counts.values())
        shown = name if len(name) <= 22 else name[:21] + "…"
        out.append(
            f'<text x="{_LABEL - 8}" y="{y + _BAR - 5}" text-anchor="end">{escape(shown)}'
            f"<title>{escape(name)}</title></text>"
        )
        x = float(_LABEL)
        for verdict, n in _ordered(counts):
            width = span * n / total
            tip = f"{name}: {n} {verdict} ({_share(n, total)} of {total})"
            out.append(_segment(x=x, y=y, width=width, height=_BAR, label=verdict, tip=tip))
            x += width
        note = f"{total} · {_share(counts.get('reproducible', 0), total)} reproducible"
        out.append(
            f'<text class="muted" x="{_LABEL + span + 8}" y="{y + _BAR - 5}">{escape(note)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def render_columns(periods: Sequence[tuple[str, Mapping[str, int]]], *, label: str) -> str:
    """One column per ``(period, verdict counts)``, oldest first, stacked to 100%, with the
    first, the last and some periods between named under them, and each one's count above it
    when the columns are wide enough; ``label`` names the plot."""
    top, plot_height, bottom, left = 18, 160, 22, 36
    height = top + plot_height + bottom
    span = _WIDTH - left - 8
    step = span / max(1, len(periods))
    width = max(1.0, step - (2 if step > 6 else 0))
    out = [
        f'<svg class="plot" role="img" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" '
        f'height="{height}" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for share in (0, 50, 100):
        y = top + plot_height * (1 - share / 100)
        out.append(f'<line x1="{left}" x2="{_WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}"></line>')
        out.append(
            f'<text class="muted" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{share}%</text>'
        )
    every = max(1, len(periods) // 6)
    for index, (period, counts) in enumerate(periods):
        x = left + index * step
        total = sum(counts.values())
        y = float(top + plot_height)
        for verdict, n in _ordered(counts):
            h = plot_height * n / total
            y -= h
            tip = f"{period}: {n} {verdict} ({_share(n, total)} of {total})"
            out.append(_segment(x=x, y=y, width=width, height=h, label=verdict, tip=tip))
        if step >= 28:
            out.append(
                f'<text class="muted" x="{x + width / 2:.1f}" y="{top - 5}" '
                f'text-anchor="middle">{total}</text>'
            )
        last = index == len(periods) - 1
        # the last period is always named; one of the regular ones too close to it is not
        if last or (index % every == 0 and len(periods) - 1 - index >= every / 2):
            out.append(
                f'<text class="muted" x="{x + width / 2:.1f}" y="{height - 6}" '
                f'text-anchor="middle">{escape(period)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)
