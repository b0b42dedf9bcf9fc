"""``reprobuild``: argument parsing, dispatch, and the one place errors are printed."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from reprobuild import __version__
from reprobuild.cli import build, diff, normalize, results, vary, verify
from reprobuild.cli._output import HelpFormatter, Subparsers, print_error
from reprobuild.errors import BuildError, NetworkError, ReprobuildError

TYPE_CHECKING = False  # typing is not imported at run time: start-up is part of every command
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["EXIT_BAD_INPUT", "EXIT_DIFFERENT", "EXIT_FAILURE", "EXIT_OK", "main"]

EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_BAD_INPUT = 2
EXIT_FAILURE = 3

_DESCRIPTION = """\
Make Python packages reproducible, and prove it.

A package's sdist and wheel should be a pure function of its source. reprobuild rewrites
archives into canonical form, and tells you what was not canonical.
"""

_EPILOG = """\
exit codes: 0 done / same, 1 differences found or not canonical, 2 bad input or usage,
3 build or environment failure.
Run 'reprobuild COMMAND --help' for a command's options and examples.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in the house form: one ``error:`` line, a ``hint:``, exit 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {self.prog}: {message}", file=sys.stderr)
        print(f"hint: run '{self.prog} --help' for the options and examples", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
        prog="reprobuild",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"reprobuild {__version__}")
    # subcommand parsers are _Parser too (argparse makes them of the parent's class)
    subparsers: Subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    build.register(subparsers)
    diff.register(subparsers)
    normalize.register(subparsers)
    verify.register(subparsers)
    results.register(subparsers)
    vary.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except (BuildError, NetworkError) as exc:  # the build, its environment or the index failed
        print_error(exc)
        return EXIT_FAILURE
    except ReprobuildError as exc:
        print_error(exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (``| head``): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:  # a bug: say so in one line, keep the traceback for debugging
        if os.environ.get("REPROBUILD_DEBUG"):
            import traceback

            traceback.print_exc()
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(
            "hint: this is a bug in reprobuild; set REPROBUILD_DEBUG=1 for the traceback "
            "and report it",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return code
