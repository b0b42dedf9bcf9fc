"""``reprobuild results``: what every ``reprobuild verify`` attempt found, failures included."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reprobuild.cli._cache import results_db_of
from reprobuild.cli._output import HelpFormatter, Subparsers, print_json, shown
from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from reprobuild.rebuild.history import Attempt
    from reprobuild.report import JSONValue

__all__ = ["register", "run"]

_DESCRIPTION = """\
List the verification attempts recorded by 'reprobuild verify': one row per artifact and
attempt, oldest first, with the verdict and its cause. Failures are kept like successes, so a
release's history shows when it became reproducible, or stopped being. An attempt that failed
before any file was judged (the index could not be reached, no such release) is one row with
the verdict 'error' and no file name. Each attempt says where its files came from: 'index' (a
release on the package index) or 'local' ('verify --wheel FILE --sdist FILE'; marked '(local)'
in the list); attempts recorded by a reprobuild older than this column have none.

--format html -o DIR writes a static site into DIR: index.html with the share of files found
reproducible (by build backend, by upload year, over time) and a searchable, filterable table
of releases, and one page per release (releases/NAME-VERSION.html) with every attempt, its
verdict, cause, recipe and difference tree. It needs no server and loads nothing from
elsewhere: open index.html, or publish DIR as it is. The site is written beside DIR, then
renamed to it; DIR is replaced only when a previous 'results --format html' wrote it (it holds
the file .reprobuild-dashboard) or it is empty, and refused otherwise (exit 2). An artifact's
attestation, FILE.intoto.jsonl in the 'attestations' folder beside the database (or in
--attestations DIR), is copied into the site and linked from its release's page.

A database given with --db that does not exist is an error (exit 2): a mistyped path should
not look like an empty history. The default database not existing yet only means nothing was
verified yet (exit 0).
"""

_EPILOG = """\
examples:
  reprobuild results                          # every attempt
  reprobuild results --latest                 # the last attempt of each file
  reprobuild results --name ipython           # one project's history
  reprobuild results --verdict different --verdict build-failed --format csv > misses.csv
  reprobuild results --format html -o site    # a static dashboard: open site/index.html

exit codes: 0 listed (even none), 2 bad input (a --db that does not exist or is not a
results database; -o without --format html, or a DIR that is not a previous dashboard).
"""

_VERDICTS = ("reproducible", "equivalent", "different", "not-verifiable", "build-failed", "error")
_FIELDS = (
    "id",
    "name",
    "version",
    "filename",
    "verdict",
    "cause",
    "categories",
    "sha256",
    "rebuilt_sha256",
    "override",
    "started",
    "seconds",
    "tool_version",
    "origin",
    "sandbox",
)


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "results",
        help="list, filter and export the recorded verify attempts",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--db", type=Path, metavar="PATH", help="the database (as for verify)")
    parser.add_argument(
        "--cache-dir", type=Path, metavar="DIR", help="the cache folder holding the database"
    )
    parser.add_argument("--name", metavar="NAME", help="only this project")
    parser.add_argument(
        "--version", dest="release_version", metavar="VERSION", help="only this version"
    )
    parser.add_argument(
        "--verdict",
        action="append",
        default=[],
        choices=_VERDICTS,
        help="only these verdicts (repeat it for several)",
    )
    parser.add_argument("--latest", action="store_true", help="only the last attempt of each file")
    parser.add_argument(
        "--format",
        choices=("text", "json", "csv", "html"),
        default="text",
        help="how to print them (default: text); html writes a site into -o DIR",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="the folder of the site (--format html); a previous one is replaced",
    )
    parser.add_argument(
        "--attestations",
        type=Path,
        metavar="DIR",
        help="where the attestations (FILE.intoto.jsonl) are (default: the folder "
        "'attestations' beside the database)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reprobuild.rebuild.history import LOCAL, count_attempts, list_attempts

    db = results_db_of(args)
    if (args.format == "html") != (args.output is not None):
        raise UsageError(
            "--format html writes a site into -o DIR"
            if args.output is None
            else "-o DIR is the folder of --format html's site",
            hint="give both --format html and -o DIR, or neither",
        )
    if args.attestations is not None and not args.attestations.is_dir():
        raise UsageError(
            "no such folder",
            path=str(args.attestations),
            hint="give --attestations the folder holding the FILE.intoto.jsonl files",
        )
    if args.db is not None and not db.is_file():
        reason = "a folder, not a results database" if db.is_dir() else "no such database"
        raise UsageError(
            reason,
            path=str(db),
            hint="give the path 'reprobuild verify --db' recorded its attempts in",
        )
    attempts = list(
        list_attempts(
            db,
            name=args.name,
            version=args.release_version,
            verdicts=args.verdict,
            latest=args.latest,
            details=args.format == "html",
        )
    )
    if args.format == "html":
        _write_dashboard(args, db, attempts)
    elif args.format == "json":
        from reprobuild.report import envelope

        rows: list[JSONValue] = [
            {
                "id": a.id,
                "name": a.name,
                "version": a.version,
                "filename": a.filename,
                "verdict": a.verdict,
                "cause": a.cause,
                "categories": list(a.categories),
                "sha256": a.sha256,
                "rebuilt_sha256": a.rebuilt_sha256,
                "override": a.override,
                "started": a.started,
                "seconds": a.seconds,
                "tool_version": a.tool_version,
                "origin": a.origin,
                "sandbox": a.sandbox,
            }
            for a in attempts
        ]
        print_json(envelope("results", {"database": str(db), "attempts": rows}))
    elif args.format == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(_FIELDS)
        for a in attempts:
            writer.writerow(
                [";".join(a.categories) if f == "categories" else getattr(a, f) for f in _FIELDS]
            )
    else:
        if not attempts:
            recorded = count_attempts(db)
            if recorded:
                print(
                    f"no attempt matches the filters ({recorded} recorded in {db})",
                    file=sys.stderr,
                )
            else:
                print(f"no attempts recorded in {db}", file=sys.stderr)
        for a in attempts:
            cause = f"  {shown(a.cause)}" if a.cause else ""
            what = f"  {shown(a.filename)}" if a.filename else ""
            where = " (local)" if a.origin == LOCAL else ""
            box = " [unsandboxed]" if a.sandbox == "none" else ""
            print(f"{a.started[:19]}  {a.name}=={a.version}{where}{what}: {a.verdict}{box}{cause}")
    return 0


def _write_dashboard(args: argparse.Namespace, db: Path, attempts: Sequence[Attempt]) -> None:
    """Write the site of ``attempts`` into ``-o DIR``, with the attestations found."""
    from reprobuild.cli._dashboard import (
        ATTESTATION_SUFFIX,
        ATTESTATIONS,
        find_attestations,
        write_site,
    )
    from reprobuild.present.dashboard import INDEX, render_dashboard, safe_name

    folder = args.attestations if args.attestations is not None else db.parent / ATTESTATIONS
    found = find_attestations(folder, (a.filename for a in attempts if a.filename))
    links: dict[str, str] = {}
    copies: dict[str, Path] = {}
    taken: set[str] = set()
    for filename in sorted(found):
        name = safe_name(filename + ATTESTATION_SUFFIX, taken=taken)
        taken.add(name.casefold())
        links[filename] = f"{ATTESTATIONS}/{name}"
        copies[links[filename]] = found[filename]
    site = render_dashboard(attempts, attestations=links)
    write_site(args.output, site, copies)
    releases = len(site) - 1
    print(
        f"wrote {args.output / INDEX}: {len(attempts)} attempts, {releases} release pages"
        + (f", {len(copies)} attestations" if copies else ""),
        file=sys.stderr,
    )
