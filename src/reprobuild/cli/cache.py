"""``reprobuild cache``: what the local build cache holds, evicting to a size, checking it."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from reprobuild.cli._cache import add_cache_dir_argument, cache_dir_of
from reprobuild.cli._output import HelpFormatter, Subparsers, print_json, shown

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.cache import CacheStats, GcReport, VerifyReport
    from reprobuild.report import JSONValue

__all__ = ["parse_size", "register", "run"]

_DESCRIPTION = """\
The local cache of build outputs: a content-addressed store of blobs (named by the sha256 of
their bytes) and action records (what a build step produced, by the key of its inputs), kept
in <cache-dir>/store with an index of both. Blobs are verified when written and whenever read;
an action record is checked against the store before it is used, and one that does not parse
or points at a missing or corrupt blob is set aside, never used.

  stats    count the blobs, their bytes, the action records, and what was rejected
  gc       evict the least recently used records, and the blobs nothing else points at,
           until the blobs take at most --max-size
  verify   hash every blob again, parse every record and follow its pointers; what is wrong
           is moved to <cache-dir>/store/quarantine
"""

_EPILOG = """\
examples:
  reprobuild cache stats
  reprobuild cache gc --max-size 5G            # sizes in bytes, or with K, M, G, T (1024s)
  reprobuild cache verify --format json
  reprobuild cache stats --cache-dir /tmp/rb   # another cache folder

exit codes: 0 done (verify: nothing wrong), 1 verify found corrupt or broken entries,
2 bad usage (a size that is not one), 3 the cache cannot be used.
"""

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """An argparse ``type`` for sizes: ``"0"``, ``"123"``, ``"512M"``, ``"1.5G"``: bytes, or
    K, M, G or T (``KiB``, ``MB``, ``GB`` alike: powers of 1024). Zero is a size; a negative,
    infinite or unknown one is not."""
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b")
    number, unit = cleaned, ""
    if cleaned and cleaned[-1] in _UNITS:
        number, unit = cleaned[:-1], cleaned[-1]
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or value > 2**62:
        raise argparse.ArgumentTypeError(
            f"not a size: {text!r} (write bytes, or a number with K, M, G or T)"
        )
    return int(value)


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "cache",
        help="show, evict and check the local cache of build outputs",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    commands: Subparsers = parser.add_subparsers(
        dest="cache_command", metavar="{stats,gc,verify}", required=True
    )
    stats = commands.add_parser(
        "stats",
        help="count what the cache holds",
        description="Count the blobs, their bytes, the action records, the records rejected "
        "and the entries set aside, as the cache's index lists them.",
        epilog="example:\n  reprobuild cache stats --format json\n\nexit codes: 0 done, "
        "3 the cache cannot be used.",
        formatter_class=HelpFormatter,
    )
    gc = commands.add_parser(
        "gc",
        help="evict the least recently used entries down to a size",
        description="Evict action records, least recently used first, with the blobs that no "
        "remaining record points at, and blobs no record points at, until the blobs take at "
        "most --max-size. A blob a remaining record points at is never deleted.",
        epilog="examples:\n  reprobuild cache gc --max-size 5G\n  reprobuild cache gc "
        "--max-size 0          # empty it\n\nexit codes: 0 done, 2 a size that is not one, "
        "3 the cache cannot be used.",
        formatter_class=HelpFormatter,
    )
    gc.add_argument(
        "--max-size",
        type=parse_size,
        required=True,
        metavar="SIZE",
        help="bytes of blobs to keep at most: 123, 512M, 5G (K, M, G, T are powers of 1024)",
    )
    verify = commands.add_parser(
        "verify",
        help="check every blob and record; set aside what is wrong",
        description="Hash every blob again, parse every action record and follow its pointers. "
        "Corrupt blobs, broken records and stray files are moved to the quarantine folder "
        "(with the reason beside each), and the index is made again from the files.",
        epilog="example:\n  reprobuild cache verify\n\nexit codes: 0 nothing wrong, 1 corrupt "
        "or broken entries found (and set aside), 3 the cache cannot be used.",
        formatter_class=HelpFormatter,
    )
    for sub in (stats, gc, verify):
        add_cache_dir_argument(sub, holds="build outputs")
        sub.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="how to print the result (default: text)",
        )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reprobuild.cache import CacheStats, LocalCache, VerifyReport

    root = cache_dir_of(args) / "store"
    command: str = args.cache_command
    if not root.is_dir():  # nothing cached yet: say so without making the folder
        if command == "stats":
            empty = CacheStats(blobs=0, blob_bytes=0, actions=0, rejected=0, quarantined=0)
            return _print_stats(args, root, empty)
        if command == "gc":
            return _print_gc(args, root, _empty_gc(args.max_size))
        nothing = VerifyReport(
            blobs_checked=0, corrupt_blobs=(), actions_checked=0, broken_actions=(), strays=()
        )
        return _print_verify(args, root, nothing)
    with LocalCache(root) as cache:
        if command == "stats":
            return _print_stats(args, root, cache.stats())
        if command == "gc":
            return _print_gc(args, root, cache.gc(args.max_size))
        return _print_verify(args, root, cache.verify())


def _empty_gc(max_size: int) -> GcReport:
    from reprobuild.cache import GcReport

    return GcReport(
        max_size=max_size,
        size_before=0,
        size_after=0,
        bytes_freed=0,
        evicted_actions=(),
        evicted_blobs=(),
        rejected=(),
        temp_files_removed=0,
    )


def _print_stats(args: argparse.Namespace, root: Path, stats: CacheStats) -> int:
    if args.format == "json":
        _print_doc(
            "stats",
            root,
            {
                "blobs": stats.blobs,
                "blob_bytes": stats.blob_bytes,
                "actions": stats.actions,
                "rejected": stats.rejected,
                "quarantined": stats.quarantined,
            },
        )
        return 0
    print(f"cache: {shown(str(root))}")
    print(f"blobs: {stats.blobs} ({_human(stats.blob_bytes)})")
    print(f"action records: {stats.actions}")
    print(f"records rejected: {stats.rejected}")
    print(f"set aside in quarantine: {stats.quarantined}")
    return 0


def _print_gc(args: argparse.Namespace, root: Path, report: GcReport) -> int:
    if args.format == "json":
        _print_doc(
            "gc",
            root,
            {
                "max_size": report.max_size,
                "size_before": report.size_before,
                "size_after": report.size_after,
                "bytes_freed": report.bytes_freed,
                "evicted_actions": list(report.evicted_actions),
                "evicted_blobs": list(report.evicted_blobs),
                "rejected": [
                    {"key": r.key, "reason": r.reason, "quarantined": r.quarantined}
                    for r in report.rejected
                ],
                "temp_files_removed": report.temp_files_removed,
            },
        )
        return 0
    for rejected in report.rejected:
        print(f"set aside action record {rejected.key}: {shown(rejected.reason)}")
    records = _count(len(report.evicted_actions), "action record")
    print(
        f"freed {_human(report.bytes_freed)}: {records} and "
        f"{_count(len(report.evicted_blobs), 'blob')} evicted; "
        f"{_human(report.size_after)} of blobs left (at most {_human(report.max_size)})"
    )
    return 0


def _print_verify(args: argparse.Namespace, root: Path, report: VerifyReport) -> int:
    code = 0 if report.clean else 1
    if args.format == "json":
        _print_doc(
            "verify",
            root,
            {
                "clean": report.clean,
                "blobs_checked": report.blobs_checked,
                "corrupt_blobs": list(report.corrupt_blobs),
                "actions_checked": report.actions_checked,
                "broken_actions": [
                    {"key": r.key, "reason": r.reason, "quarantined": r.quarantined}
                    for r in report.broken_actions
                ],
                "strays": list(report.strays),
            },
        )
        return code
    for digest in report.corrupt_blobs:
        print(f"corrupt blob {digest}: set aside")
    for rejected in report.broken_actions:
        print(f"broken action record {rejected.key}: {shown(rejected.reason)}: set aside")
    for stray in report.strays:
        print(f"stray file {shown(stray)}: set aside")
    checked = (
        f"checked {_count(report.blobs_checked, 'blob')} and "
        f"{_count(report.actions_checked, 'action record')}"
    )
    if report.clean:
        print(f"{checked}: nothing wrong")
    else:
        found = len(report.corrupt_blobs) + len(report.broken_actions) + len(report.strays)
        print(f"{checked}: {_count(found, 'entry', 'entries')} wrong, moved to quarantine")
    return code


def _print_doc(command: str, root: Path, body: dict[str, JSONValue]) -> None:
    from reprobuild.report import envelope

    print_json(envelope("cache", {"subcommand": command, "cache": str(root), **body}))


def _count(number: int, one: str, many: str | None = None) -> str:
    return f"{number} {one if number == 1 else (many or one + 's')}"


def _human(size: int) -> str:
    """``1.5 GiB``, ``512 bytes``: the size in the largest unit it has at least one of."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
