"""``reprobuild``: argument parsing, dispatch, and the one place errors are printed."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from reprobuild import __version__
from reprobuild.cli._output import HelpFormatter, Subparsers, print_error, shown
from reprobuild.errors import BuildError, CacheError, NetworkError, ReprobuildError

TYPE_CHECKING = False  # typing is not imported at run time: start-up is part of every command
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn

__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_DIFFERENT",
    "EXIT_FAILURE",
    "EXIT_OK",
    "build_parser",
    "main",
]

#: The subcommands, in the order the help lists them: each is the module ``reprobuild.cli.NAME``
#: with its ``register(subparsers)``.
COMMANDS = (
    "build",
    "diff",
    "normalize",
    "verify",
    "results",
    "vary",
    "graph",
    "cache",
    "dedup",
    "attest",
    "key",
)

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
        print(f"error: {self.prog}: {shown(message)}", file=sys.stderr)
        print(f"hint: run '{self.prog} --help' for the options and examples", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser, with every subcommand; or, given ``command``, with that one.

    A parser for one subcommand parses that subcommand's arguments exactly as the whole parser
    does; ``main`` builds one when the command comes first, so that a command imports and
    registers only its own module.
    """
    parser: argparse.ArgumentParser = _Parser(
        prog="reprobuild",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"reprobuild {__version__}")
    # subcommand parsers are _Parser too (argparse makes them of the parent's class)
    subparsers: Subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS if command is None else (command,):
        register: Callable[[Subparsers], None] = importlib.import_module(
            f"reprobuild.cli.{name}"
        ).register
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv``; None means the program's own arguments (``sys.argv``).

    Called as the program, the process exits right after: the objects still alive are then
    left out of the garbage collector's last passes (``gc.freeze``), which at interpreter
    shutdown would walk every one of them to free memory that the exit returns at once.
    """
    if argv is not None:
        return _run(argv)
    code = _run(sys.argv[1:])
    import gc

    gc.freeze()
    return code


def _run(argv: Sequence[str]) -> int:
    # the command first (no option before it, such as --help, that needs the others): only its
    # module is imported; anything else gets the parser with every subcommand
    parser = build_parser(argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except (BuildError, NetworkError, CacheError) as exc:  # a build, the index, the cache failed
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
        print(f"error: internal error: {type(exc).__name__}: {shown(str(exc))}", file=sys.stderr)
        print(
            "hint: this is a bug in reprobuild; set REPROBUILD_DEBUG=1 for the traceback "
            "and report it",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return code
