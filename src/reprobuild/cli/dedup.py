"""``reprobuild dedup``: find packages that are the same modulo inconsequential metadata."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from reprobuild._types import JSONValue
from reprobuild.cli._output import HelpFormatter, Subparsers, print_json
from reprobuild.errors import UsageError

__all__ = ["register", "run"]

_EXIT_NONE = 0
_M_ARENA_MAX = -8  # mallopt's parameter in glibc's malloc.h
_EXIT_FOUND = 1

_LEVELS = ("bytes", "members", "canonical", "payload")

_DESCRIPTION = """\
Group wheels, sdists and conda packages (.conda and .tar.bz2, read without unpacking them to
disk), or folders of them (a wheelhouse, a local channel), at four levels, each grouping at
least what the one before groups:

  bytes      the same file
  members    the same members (path, kind, executable bit, content), whatever the container
             says: times, order, owners, compression, tar or zip, .conda or .tar.bz2
  canonical  the same after the canonicalization rules (--list-rules): build timestamps,
             build prefixes, provenance (tool versions, the rendered recipe), RECORD,
             paths.json, files, set-like JSON lists...
  payload    the same installed payload once lib/pythonX.Y/site-packages is mapped, byte
             code and package metadata dropped: "could have been one noarch package"

For each level: the groups, and the bytes and downloads a channel, an index or a disk would
save by keeping one package of each group. Every member that keeps two packages apart is named
with its class (identity, volatile, provenance, derived, payload), the category of its
difference (as reprobuild diff names them) and the rule of the next level that sets it aside.

--store DIR puts every distinct member once into the content-addressed store of the cache at
DIR (the store 'reprobuild cache' and 'reprobuild graph' use), with a manifest per package
from which 'reprobuild dedup --materialize' writes the package again, bit for bit.
"""

_EPILOG = """\
examples:
  reprobuild dedup ./channel                         # every package below, every level
  reprobuild dedup dist/*.whl --level canonical      # the groups of one level
  reprobuild dedup ./channel --format json > dedup.json
  reprobuild dedup ./channel --format html > dedup.html
  reprobuild dedup --list-rules
  reprobuild dedup ./channel --store ~/.cache/reprobuild/store
  reprobuild dedup --store STORE --materialize SHA256 --output pkg.tar.bz2

exit codes: 0 no two packages group at the level asked (payload when none is), 1 some do,
2 bad input or usage (a file that is not a package or does not read: named with its member),
3 the store cannot be used.
"""


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dedup",
        help="find packages that are the same modulo inconsequential metadata",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="a package, or a folder of them"
    )
    parser.add_argument(
        "--level",
        choices=_LEVELS,
        help="show the groups of this level only (default: every level)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="what to print on stdout (default: text)",
    )
    parser.add_argument(
        "--list-rules",
        action="store_true",
        help="list the canonicalization rules, with their versions, and exit",
    )
    parser.add_argument(
        "--store",
        type=Path,
        metavar="DIR",
        help="put each distinct member once into the cache's content-addressed store at DIR, "
        "with a manifest per package",
    )
    parser.add_argument(
        "--materialize",
        metavar="SHA256",
        help="with --store: write the package of this sha256 again from the store",
    )
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="where --materialize writes the package"
    )
    parser.add_argument(
        "--shown",
        type=int,
        default=5,
        metavar="N",
        help="in text, show at most N members of each class that keeps packages apart (default: 5)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        from reprobuild.dedup.document import render_rules_text, rules_document

        if args.format == "json":
            print_json(rules_document())
        else:
            sys.stdout.write(render_rules_text())
        return _EXIT_NONE
    if args.materialize is not None:
        return _materialize(args)
    if not args.paths:
        raise UsageError(
            "no package or folder given", hint="run 'reprobuild dedup PATH...' (see --help)"
        )
    from concurrent.futures import ThreadPoolExecutor

    from reprobuild.dedup import ContentDigests, Level
    from reprobuild.dedup.document import iter_report_json, iter_text, lazy_document
    from reprobuild.dedup.read import READING_THREADS, find_package_files, read_packages
    from reprobuild.dedup.stream import Scan

    files = find_package_files(args.paths)  # strings: a Path per file costs more
    known = ContentDigests()
    _one_malloc_arena()
    with Scan() as scan:
        with ThreadPoolExecutor(READING_THREADS, thread_name_prefix="dedup-read") as ahead:
            depth = READING_THREADS
            for package in read_packages(files, digests=known, ahead=ahead, depth=depth):
                scan.add(package)
        report = scan.report()
        explainer = scan.explainer()
        stored = None
        if args.store is not None:
            from reprobuild.cache import LocalCache
            from reprobuild.dedup.store import store_packages

            with LocalCache(args.store) as cache:
                stored = store_packages([Path(name) for name in files], cache.store)
        level = Level(args.level) if args.level else None
        out = sys.stdout
        if args.format == "json":
            more: dict[str, JSONValue] | None = None
            if stored is not None:
                from reprobuild.dedup.store import stored_document

                more = {"stored": stored_document(stored)}
            out.writelines(iter_report_json(report, explainer, more=more))
        elif args.format == "html":
            from reprobuild.dedup.page import iter_dedup_html

            out.writelines(iter_dedup_html(lazy_document(report, explainer)))
        else:
            out.writelines(
                iter_text(report, level=level, shown=max(args.shown, 0), explainer=explainer)
            )
            if stored is not None:
                from reprobuild.dedup.store import render_stored

                out.write("\n" + render_stored(stored, unpacked=report.member_bytes))
        out.flush()
    merged = report.level(level or Level.PAYLOAD).merged
    return _EXIT_FOUND if merged else _EXIT_NONE


def _one_malloc_arena() -> None:
    """Have glibc's allocator serve every thread from one arena. By default each thread that
    allocates gets its own, and the reading threads' arenas keep what they freed (the
    inflated members): the peak grew with the number of packages read. The threads mostly
    wait in zlib and hashlib, not in the allocator, so one arena costs them nothing."""
    if not hasattr(os, "confstr") or not os.confstr("CS_GNU_LIBC_VERSION"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)


def _materialize(args: argparse.Namespace) -> int:
    if args.store is None or args.output is None:
        raise UsageError(
            "--materialize needs --store DIR and --output FILE",
            hint="reprobuild dedup --store DIR --materialize SHA256 --output FILE",
        )
    from reprobuild.cache import LocalCache, check_digest
    from reprobuild.dedup.store import materialize

    digest = check_digest(args.materialize, what="package sha256")
    with LocalCache(args.store) as cache:
        materialize(cache.store, digest, args.output)
    print(f"wrote {args.output} ({digest})")
    return _EXIT_NONE
