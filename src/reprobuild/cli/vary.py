"""``reprobuild vary``: find what makes a build nondeterministic, and say how to fix it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reprobuild.cli._cache import add_cache_dir_argument, cache_dir_of
from reprobuild.cli._checks import parse_release, writable_folder
from reprobuild.cli._epoch import epoch_argument
from reprobuild.cli._output import HelpFormatter, Subparsers, job_count, print_json, say
from reprobuild.cli._sandbox import add_sandbox_arguments, sandbox_of
from reprobuild.errors import UsageError

__all__ = ["register", "run"]

_DESCRIPTION = """\
Build a project the way its maintainer's own build runs it (the backend's plain output, no
normalization, SOURCE_DATE_EPOCH unset), in one fixed environment (the control), and once with
every variation at once (the experiment). When the experiment's sdist or wheel differs from
the control's, build each variation the difference points to alone (times: the clock and the
source times, and the time zone when a time moved by its offset; modes: the umask...) and the
others together, halving any set that still changes an artifact, until the culprits are named;
then show what differs (as 'reprobuild diff' does) and how to fix it.

The variations: the clock (moved 3 days on; with Debian's faketime for every process, else
for the build's Python processes), the build path, TMPDIR, the umask, the time zone, the
locale, PYTHONHASHSEED, the source files' times, their order in a folder, USER and HOME, the
host name (a new UTS namespace), the CPU count (affinity) and extra environment variables.
One that cannot run on this machine is skipped, and the report says why. An artifact whose
control builds differ is random on its own: the report names what differs.

SOURCE is a project folder, an sdist file, or NAME==VERSION: the release's sdist, downloaded
from the index pip is configured with (or --index-url).

Vary never takes a build from the action cache, nor keeps one there: its control and its
experiments are built every time, since a control found in the cache would be one build's
claim, and would hide the nondeterminism vary looks for. --no-cache is accepted, and changes
nothing.
"""

_EPILOG = """\
examples:
  reprobuild vary                              # the project in this folder
  reprobuild vary path/to/project --jobs 2     # two builds at a time
  reprobuild vary demo==1.0                    # the wheel of a release's sdist
  reprobuild vary . --only umask,hash-seed     # only these variations
  reprobuild vary . --source-date-epoch 1700000000   # does setting it fix the clock?
  reprobuild vary . --format html > vary.html
  reprobuild vary --list                       # the variations, and which can run here

exit codes: 0 reproducible under every variation, 1 not reproducible, 2 bad input,
3 the control build (or the index) failed.
"""


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "vary",
        help="find what makes a build nondeterministic, and how to fix it",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "source",
        nargs="?",
        default=".",
        metavar="SOURCE",
        help="a project folder, an sdist, or NAME==VERSION (default: this folder)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=job_count,
        default=1,
        metavar="N",
        help="run up to N builds at a time, each in a worker process and in one of N build "
        "folders, each with its own control (default: 1)",
    )
    parser.add_argument(
        "--only",
        type=_names,
        default=(),
        metavar="NAMES",
        help="vary only these (comma-separated names; see --list)",
    )
    parser.add_argument(
        "--skip",
        type=_names,
        default=(),
        metavar="NAMES",
        help="do not vary these (comma-separated names)",
    )
    parser.add_argument(
        "--source-date-epoch",
        type=epoch_argument,
        metavar="SECONDS",
        help="export SOURCE_DATE_EPOCH to every build (control and experiment alike)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep every build's artifacts in DIR (default: a temporary folder, removed)",
    )
    parser.add_argument(
        "--index-url",
        action="append",
        default=[],
        metavar="URL",
        help="a simple-API index to download NAME==VERSION from, instead of pip's (repeatable)",
    )
    add_cache_dir_argument(parser, holds="downloads and build environments are")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="accepted for uniformity with build and verify: vary never takes a build from the "
        "action cache (a cached control would hide the nondeterminism it looks for)",
    )
    add_sandbox_arguments(parser)
    parser.add_argument(
        "--list",
        action="store_true",
        help="list the variations, and why any cannot run here, then exit",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="how to print the report on stdout (default: text)",
    )
    parser.set_defaults(run=run)


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _is_release(text: str) -> bool:
    return "==" in text and not Path(text).exists()


def _check_outputs(args: argparse.Namespace, cache_dir: Path) -> None:
    """Refuse a cache folder or --keep folder that cannot be written, before any work."""
    writable_folder(
        cache_dir,
        what="the cache folder",
        hint="give a writable folder with --cache-dir (or set REPROBUILD_CACHE_DIR)",
    )
    if args.keep is not None:
        writable_folder(
            args.keep,
            what="the folder to keep the builds in",
            hint="give a writable folder with --keep",
        )


def run(args: argparse.Namespace) -> int:
    import contextlib
    import tempfile

    from reprobuild.frontend import resolve_requirements
    from reprobuild.vary import (
        default_variations,
        parallel_builder,
        render_html,
        render_json,
        render_text,
        select,
        serial_builder,
        vary,
    )
    from reprobuild.vary.run import release_sdist

    try:
        variations = select(default_variations(), args.only, args.skip)
    except ValueError as exc:
        raise UsageError(str(exc), hint="run 'reprobuild vary --list'") from None
    if args.list:
        for variation in variations:
            reason = variation.available()
            state = f"skipped here: {reason}" if reason else variation.description
            print(f"{variation.name:<15} {state}")
        return 0
    if not variations:
        raise UsageError("no variation left to try", hint="check --only and --skip")

    def progress(message: str) -> None:
        say(message)

    cache_dir = cache_dir_of(args)
    sandbox = sandbox_of(args)  # chosen, or refused, before anything is downloaded
    text: str = args.source
    if _is_release(text):
        from reprobuild.index import IndexClient

        name, version = parse_release(text, example="reprobuild vary demo==1.0")
        _check_outputs(args, cache_dir)
        client = IndexClient(cache_dir=cache_dir, index_urls=args.index_url or None)
        source = release_sdist(name, version, client=client, progress=progress)
    else:
        source = Path(text)
        _check_outputs(args, cache_dir)
    # unwound last in, first out: the workers are stopped (with any build they run) before
    # the folder they write into is removed, on success, an error or an interruption alike
    with contextlib.ExitStack() as stack:
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="reprobuild-vary-"))
        if args.jobs > 1:
            builder, close = parallel_builder(args.jobs, progress)
            stack.callback(close)
        else:
            builder = serial_builder(progress)
        report = vary(
            source,
            cache_dir=cache_dir,
            workdir=args.keep if args.keep is not None else Path(scratch),
            variations=variations,
            builder=builder,
            jobs=args.jobs,
            source_date_epoch=args.source_date_epoch,
            resolver=resolve_requirements,
            progress=progress,
            sandbox=sandbox,
        )
    if args.format == "json":
        print_json(render_json(report))
    elif args.format == "html":
        sys.stdout.write(render_html(report))
    else:
        sys.stdout.write(render_text(report))
    return 0 if report.reproducible else 1
