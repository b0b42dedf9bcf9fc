"""Present a difference tree: as indented text, as a JSON document, as one HTML page.

- :func:`render_text` — the default output of ``reprobuild diff``: an indented tree ending
  with the one-line summary, ANSI colour only when asked.
- :func:`render_excerpt` — the first consequential differences with the first lines of
  their diffs, each bounded, for a report that leads with a verdict (``verify``'s text).
- :func:`render_json` / :func:`load_json` — the document of ``--format json`` and reading it
  back: ``load_json(render_json(d)) == d``.
- :func:`render_html` — one self-contained page, a collapsible tree with side-by-side diffs.

Two identical inputs are shown as a bare root, ``Difference(source_a=a, source_b=b)``; the
inputs differ when any node of the tree has a category.

Pure: no printing, no clock, no environment. Whether to colour, and where the output goes, is
the caller's decision.
"""

from __future__ import annotations

from reprobuild.present.document import DocumentError, load_json, render_json
from reprobuild.present.text import render_excerpt, render_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.present.htmlpage import CATEGORY_DESCRIPTIONS, render_html

__all__ = [
    "CATEGORY_DESCRIPTIONS",
    "DocumentError",
    "load_json",
    "render_excerpt",
    "render_html",
    "render_json",
    "render_text",
]


def __getattr__(name: str) -> object:
    # the HTML page (and the side-by-side view it needs) is imported when it is asked for:
    # a command that prints text or JSON never loads it
    if name in ("CATEGORY_DESCRIPTIONS", "render_html"):
        from reprobuild.present import htmlpage

        return getattr(htmlpage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
