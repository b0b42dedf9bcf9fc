"""Printing helpers shared by the subcommands: errors, JSON, colour."""

from __future__ import annotations

import argparse
import os
import sys

from reprobuild.errors import ReprobuildError
from reprobuild.report import JSONValue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO, TypeAlias

__all__ = [
    "HelpFormatter",
    "Subparsers",
    "colour",
    "colour_on",
    "error_text",
    "job_count",
    "json_text",
    "print_error",
    "print_json",
    "say",
    "shown",
]

#: What each subcommand's ``register`` receives.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's raw-description formatter, sized from the terminal without importing shutil.

    argparse builds a formatter for every ``add_argument``; its own one imports ``shutil`` just to
    read the terminal width, a few milliseconds of every command's start-up.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _terminal_columns() -> int:
    """What ``shutil.get_terminal_size().columns`` says: ``COLUMNS``, the terminal, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def print_error(exc: ReprobuildError, *, stream: TextIO | None = None) -> None:
    """``error: <path> › <member>: <reason>`` and, when known, ``hint: …``, every character
    read from an input (a member's name, a log line) made visible (see :func:`error_text`)."""
    out = stream or sys.stderr
    print(f"error: {error_text(exc)}", file=out)
    if exc.hint:
        print(f"hint: {shown(exc.hint, lines=True)}", file=out)


def say(message: str) -> None:
    """``reprobuild: <message>`` on standard error, the line and its newline in one write: an
    interruption that comes between two writes of ``print`` would glue the next line (the
    ``interrupted`` that :mod:`reprobuild.cli.main` prints) onto this one."""
    sys.stderr.write(f"reprobuild: {message}\n")
    sys.stderr.flush()


def shown(text: str, *, lines: bool = False) -> str:
    """``text`` with controls, bidirectional overrides and other invisible characters escaped
    (``\\x1b``, ``\\n``, ``\\u202e``), so that a name read from an archive can neither
    drive the terminal nor pass for another; with ``lines``, its line breaks kept."""
    from reprobuild.present._chars import visible  # errors are rare: not at start-up

    if lines:
        return "\n".join(visible(line) for line in text.split("\n"))
    return visible(text)


def error_text(exc: ReprobuildError) -> str:
    """The error as one line, ``<path> › <member>: <reason>``: the path and member escaped
    whole (a newline in a name shows as ``\\n``), the reason's own line breaks as spaces."""
    where = " › ".join(shown(part) for part in (exc.path, exc.member) if part)
    reason = shown(" ".join(exc.reason.split("\n")))
    text = f"{where}: {reason}" if where else reason
    if exc.offset is not None:
        text += f" (at byte {exc.offset})"
    return text


def print_json(doc: dict[str, JSONValue]) -> None:
    sys.stdout.write(json_text(doc) + "\n")


class _NotPlain(Exception):
    """A value :func:`json_text` leaves to the standard library."""


def json_text(doc: JSONValue) -> str:
    """``json.dumps(doc, indent=2)``, the same text, written in one pass.

    The standard library's encoder runs in C only without indentation; with it, it is a chain
    of Python generators, several times slower on a large difference tree. Values are told
    apart in the order its Python encoder tells them, strings are escaped by its own (C)
    function; a key that is not a string, or a value of no JSON type, is left to ``json.dumps``.
    """
    import json  # only for --format json: keeps start-up short
    from json.encoder import encode_basestring_ascii as quote

    parts: list[str] = []
    add = parts.append

    def write(value: object, indent: str) -> None:
        if isinstance(value, str):
            add(quote(value))
        elif value is None:
            add("null")
        elif value is True:
            add("true")
        elif value is False:
            add("false")
        elif isinstance(value, int):
            add(int.__repr__(value))
        elif isinstance(value, float):
            add(_float_text(value))
        elif isinstance(value, list | tuple):
            if not value:
                add("[]")
                return
            inner = indent + "  "
            separator = "[" + inner
            for item in value:
                add(separator)
                write(item, inner)
                separator = "," + inner
            add(indent + "]")
        elif isinstance(value, dict):
            if not value:
                add("{}")
                return
            inner = indent + "  "
            separator = "{" + inner
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _NotPlain
                add(separator)
                add(quote(key))
                add(": ")
                write(item, inner)
                separator = "," + inner
            add(indent + "}")
        else:
            raise _NotPlain

    try:
        write(doc, "\n")
    except _NotPlain:
        return json.dumps(doc, indent=2)
    return "".join(parts)


def _float_text(value: float) -> str:
    import math

    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def colour_on(stream: TextIO) -> bool:
    """Whether to colour what goes to ``stream``: a terminal, and NO_COLOR unset."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def colour(text: str, code: str, stream: TextIO) -> str:
    """Wrap ``text`` in an ANSI colour when ``stream`` is a terminal and NO_COLOR is unset."""
    if not colour_on(stream):
        return text
    return f"\033[{code}m{text}\033[0m"


def job_count(text: str) -> int:
    """An argparse ``type`` for ``--jobs N``: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"not a number of jobs (1 or more): {text!r}")
    return value
