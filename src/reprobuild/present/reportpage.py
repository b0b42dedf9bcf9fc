"""One self-contained HTML page for a report made of sections, each with its own paragraphs,
list and difference tree (``reprobuild vary --format html``).

The page has :mod:`reprobuild.present.htmlpage`'s style, its legend of categories and its
collapsible trees, and like it refers to nothing outside itself. Every piece of text is
escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reprobuild.compare.difference import Difference
from reprobuild.present.htmlpage import escape, html_page, render_tree

__all__ = ["Section", "render_report_html"]

_EXTRA_STYLE = """\
section.part { border-top: 1px solid var(--line); padding: 0.5rem 0 0.75rem; }
section.part ul { margin: 0.25rem 0 0.5rem; padding-left: 1.5rem; }
section.part li.fix { font-weight: 600; }
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """A heading, paragraphs, a list (``fixes`` first, drawn bold), and a difference tree."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    difference: Difference | None = None


def _section(section: Section) -> list[str]:
    out = ['<section class="part">', f"<h2>{escape(section.heading)}</h2>"]
    out.extend(f"<p>{escape(text)}</p>" for text in section.paragraphs)
    if section.fixes or section.items:
        out.append("<ul>")
        out.extend(f'<li class="fix">{escape(text)}</li>' for text in section.fixes)
        out.extend(f"<li>{escape(text)}</li>" for text in section.items)
        out.append("</ul>")
    if section.difference is not None:
        out.append(render_tree(section.difference))
    out.append("</section>")
    return out


def render_report_html(
    *, command: str, title: str, verdict: str, good: bool, sections: Sequence[Section]
) -> str:
    """The whole page, ending with a newline: ``title`` as its heading, ``verdict`` under it
    (green when ``good``, red otherwise), then each section in turn."""
    body: list[str] = []
    for section in sections:
        body.extend(_section(section))
    return html_page(
        title=f"reprobuild {command}: {title}",
        header=[
            f"<h1>{escape(title)}</h1>",
            f'<p class="verdict {"identical" if good else "consequential"}">{escape(verdict)}</p>',
        ],
        main=body,
        style=_EXTRA_STYLE,
    )
