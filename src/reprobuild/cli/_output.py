"""Printing helpers shared by the subcommands: errors, JSON, colour."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO, TypeAlias

from reprobuild.errors import ReprobuildError
from reprobuild.report import JSONValue

__all__ = ["Subparsers", "colour", "print_error", "print_json"]

#: What each subcommand's ``register`` receives.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def print_error(exc: ReprobuildError, *, stream: TextIO | None = None) -> None:
    """``error: <path> › <member>: <reason>`` and, when known, ``hint: …``."""
    out = stream or sys.stderr
    text = " ".join(str(exc).split("\n"))
    print(f"error: {text}", file=out)
    if exc.hint:
        print(f"hint: {exc.hint}", file=out)


def print_json(doc: dict[str, JSONValue]) -> None:
    import json  # only for --format json: keeps start-up short

    json.dump(doc, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def colour(text: str, code: str, stream: TextIO) -> str:
    """Wrap ``text`` in an ANSI colour when ``stream`` is a terminal and NO_COLOR is unset."""
    if os.environ.get("NO_COLOR") or not stream.isatty():
        return text
    return f"\033[{code}m{text}\033[0m"
