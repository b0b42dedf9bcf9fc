"""The default rendering of a difference tree: an indented tree for a terminal or a log.

::

    dist/demo-1.0-py3-none-any.whl vs rebuilt/demo-1.0-py3-none-any.whl
      demo/__init__.py [content]
        --- a/demo/__init__.py
        +++ b/demo/__init__.py
        @@ -1 +1 @@
        -__version__ = "1.0"
        +__version__ = "1.0.post1"
      demo-1.0.dist-info/RECORD [metadata-order]
        # rows in a different order
    1 content, 1 metadata-order (consequential)

Each node shows ``source_a vs source_b``, or one name when both are the same, and its category
in brackets when it has one; comments follow it as ``# …`` lines, then its unified diff, then its
children, each level indented by two spaces. The last line is :meth:`Difference.summary`.
Every name, comment and diff line passes through :func:`visible`, so nothing read from an
archive can reach the terminal as a control sequence.
"""

from __future__ import annotations

from reprobuild.compare.difference import INCONSEQUENTIAL, Category, Difference
from reprobuild.present._chars import split_lines, visible

__all__ = ["MORE", "render_excerpt", "render_text"]

_INDENT = "  "

# ANSI SGR codes
_BOLD = "1"
_DIM = "2"
_RED = "31"
_GREEN = "32"
_YELLOW = "33"
_CYAN = "36"


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if colour and text else text


def _category_code(category: Category) -> str:
    return _YELLOW if category in INCONSEQUENTIAL else _RED


def _diff_line_code(line: str) -> str | None:
    if line.startswith(("---", "+++")):
        return _BOLD
    if line.startswith("@@"):
        return _CYAN
    if line.startswith("-"):
        return _RED
    if line.startswith("+"):
        return _GREEN
    return None


def _title(node: Difference, colour: bool) -> str:
    name_a = visible(node.source_a) or '""'
    name_b = visible(node.source_b) or '""'
    if node.source_a == node.source_b:
        title = _paint(name_a, _BOLD, colour)
    else:
        title = f"{_paint(name_a, _BOLD, colour)} vs {_paint(name_b, _BOLD, colour)}"
    if node.category is not None:
        label = f"[{node.category.value}]"
        title += " " + _paint(label, _category_code(node.category), colour)
    return title


def _diff(unified_diff: str, inner: str, out: list[str], *, colour: bool, max_lines: int) -> int:
    """Append the first ``max_lines`` lines of a unified diff (0: all); return how many were
    left out."""
    lines = split_lines(unified_diff)
    shown = lines if max_lines <= 0 else lines[:max_lines]
    for line in shown:
        text = visible(line, keep_tabs=True)
        code = _diff_line_code(line)
        out.append(inner + (_paint(text, code, colour) if code else text))
    return len(lines) - len(shown)


def _render(
    node: Difference, depth: int, out: list[str], *, colour: bool, max_diff_lines: int
) -> None:
    out.append(_INDENT * depth + _title(node, colour))
    inner = _INDENT * (depth + 1)
    if node.comment is not None:
        for line in split_lines(node.comment) or [""]:
            out.append(inner + _paint(f"# {visible(line)}".rstrip(), _DIM, colour))
    if node.unified_diff is not None:
        hidden = _diff(node.unified_diff, inner, out, colour=colour, max_lines=max_diff_lines)
        if hidden:
            note = f"[{hidden} more diff line{'s' if hidden != 1 else ''} not shown]"
            out.append(inner + _paint(note, _DIM, colour))
    for child in node.children:
        _render(child, depth + 1, out, colour=colour, max_diff_lines=max_diff_lines)


def render_text(diff: Difference, *, colour: bool, max_diff_lines: int) -> str:
    """The tree as indented text, ending with the one-line summary and a newline.

    ``colour`` adds ANSI colours (the caller decides: a terminal, and ``NO_COLOR`` unset);
    ``max_diff_lines`` caps each unified diff shown (0: no cap), and says how many lines it hid.
    """
    out: list[str] = []
    _render(diff, 0, out, colour=colour, max_diff_lines=max_diff_lines)
    summary = diff.summary()
    if not diff.counts():
        code = _GREEN
    elif diff.inconsequential:
        code = _YELLOW
    else:
        code = _RED
    out.append(_paint(summary, code, colour))
    return "\n".join(out) + "\n"


#: What an excerpt says to get the rest.
MORE = "--format html or --format json for all"


def render_excerpt(
    diff: Difference,
    *,
    colour: bool,
    max_differences: int = 5,
    max_diff_lines: int = 20,
    depth: int = 0,
) -> str:
    """The first consequential differences of the tree, each with its comment and the first
    lines of its unified diff, for a report that shows the verdict first (``verify``'s).

    At most ``max_differences`` leaves, ``max_diff_lines`` lines of each diff; what is left out
    is counted, with :data:`MORE` to see it. Indented ``depth`` levels; "" when no leaf is
    consequential.
    """
    leaves = [leaf for leaf in diff.leaves() if leaf.category not in INCONSEQUENTIAL]
    out: list[str] = []
    pad, inner = _INDENT * depth, _INDENT * (depth + 1)
    for leaf in leaves[:max_differences]:
        out.append(pad + _title(leaf, colour))
        if leaf.comment is not None:
            for line in split_lines(leaf.comment) or [""]:
                out.append(inner + _paint(f"# {visible(line)}".rstrip(), _DIM, colour))
        if leaf.unified_diff is not None:
            hidden = _diff(leaf.unified_diff, inner, out, colour=colour, max_lines=max_diff_lines)
            if hidden:
                more = f"… {hidden} more line{'s' if hidden != 1 else ''}: {MORE}"
                out.append(inner + _paint(more, _DIM, colour))
    if len(leaves) > max_differences:
        hidden = len(leaves) - max_differences
        more = f"… {hidden} more difference{'s' if hidden != 1 else ''}: {MORE}"
        out.append(pad + _paint(more, _DIM, colour))
    return "".join(line + "\n" for line in out)
