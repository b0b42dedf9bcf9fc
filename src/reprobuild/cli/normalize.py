"""``reprobuild normalize``: rewrite archives into canonical form, or check that they are."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reprobuild.cli._checks import reason_of, writable_folder
from reprobuild.cli._epoch import epoch_argument, epoch_from_environment
from reprobuild.cli._output import HelpFormatter, Subparsers, colour, print_error, print_json
from reprobuild.errors import ArchiveError, ReprobuildError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.normalize import Normalized, Policy
    from reprobuild.report import JSONValue

# The library is imported when the command runs, not when the parser is built: every
# subcommand registers its options on start-up, and none should pay for another's modules.

__all__ = ["register", "run"]

_DESCRIPTION = """\
Rewrite wheels, sdists (.tar.gz, .zip) and plain zip/tar archives into canonical form, so that
two builds of the same source give the same bytes. Each rule reports what it changed; a file
already canonical is left as it is. Normalizing twice changes nothing.

Member times later than SOURCE_DATE_EPOCH are clamped to it: give it with --source-date-epoch
or the SOURCE_DATE_EPOCH environment variable; otherwise 315532800 (1980-01-01T00:00:00Z, the
earliest time a zip can hold) is used. Zip members are copied with their compressed bytes as
they are, without inflating them (--verify checks their content too); tar archives are written
again and recompressed at level 9.
"""

_EPILOG = """\
examples:
  reprobuild normalize dist/*.whl dist/*.tar.gz -o normalized/
  reprobuild normalize --in-place --source-date-epoch "$(git log -1 --format=%ct)" dist/*
  reprobuild normalize --check dist/*        # in a release pipeline: exit 1 if not canonical
  reprobuild normalize --list-rules

exit codes: 0 canonical or written, 1 not canonical (--check), 2 bad input or usage.
"""


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "normalize",
        help="rewrite archives into canonical form, or --check that they are",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "files", nargs="*", type=Path, metavar="FILE", help="wheels, sdists, zip or tar archives"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="write normalized copies into DIR (created if missing)",
    )
    where.add_argument(
        "--in-place",
        action="store_true",
        help="replace each file that is not canonical, atomically",
    )
    where.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file is not canonical"
    )
    parser.add_argument(
        "--source-date-epoch",
        type=epoch_argument,
        metavar="SECONDS",
        help="clamp member times to this Unix time (default: $SOURCE_DATE_EPOCH, else 315532800)",
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        metavar="RULE",
        help="do not apply RULE (repeatable; see --list-rules)",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="also inflate every zip member and check its CRC and, in a wheel, its RECORD hash "
        "(slower: by default zip data is copied raw, its structure checked, not its content)",
    )
    parser.add_argument(
        "--recompress",
        action="store_true",
        help="re-deflate every zip member at level 9 (the output then depends on the local zlib)",
    )
    parser.add_argument(
        "--list-rules", action="store_true", help="list the rules in the order they run, and exit"
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="how to print results on stdout (default: text)",
    )
    parser.set_defaults(run=run)


def _policy(args: argparse.Namespace) -> Policy:
    from reprobuild.normalize import DEFAULT_SOURCE_DATE_EPOCH, RULES, Policy

    known = [rule.name for rule in RULES]
    for name in args.skip:
        if name not in known:
            raise UsageError(f"--skip {name}: no such rule", hint="rules: " + ", ".join(known))
    epoch = args.source_date_epoch
    if epoch is None:
        epoch = epoch_from_environment()
    if epoch is None:
        epoch = DEFAULT_SOURCE_DATE_EPOCH
    return Policy(
        source_date_epoch=epoch, skip=frozenset(args.skip), recompress_zip=args.recompress
    )


def _list_rules(fmt: str) -> int:
    from reprobuild.normalize import RULES
    from reprobuild.report import envelope

    if fmt == "json":
        rules: list[JSONValue] = [
            {
                "rule": r.name,
                "touches": r.touches,
                "containers": [c.value for c in sorted(r.containers, key=lambda c: c.value)],
                "opt_in": r.opt_in,
            }
            for r in RULES
        ]
        print_json(envelope("normalize", {"rules": rules}))
        return 0
    width = max(len(rule.name) for rule in RULES)
    for rule in RULES:
        extra = " (opt-in)" if rule.opt_in else ""
        print(f"{rule.name:<{width}}  {rule.touches}{extra}")
    return 0


def _targets(args: argparse.Namespace) -> list[Path | None]:
    """Where each input goes: a path to write, or None (check only)."""
    if args.check:
        return [None for _ in args.files]
    if args.in_place:
        return list(args.files)
    out_dir: Path = args.output_dir
    targets: list[Path | None] = []
    seen: dict[str, Path] = {}
    for path in args.files:
        if path.name in seen:
            raise UsageError(
                f"{seen[path.name]} and {path} would both be written to {out_dir / path.name}",
                hint="normalize them into different folders",
            )
        seen[path.name] = path
        target = out_dir / path.name
        if target.resolve() == path.resolve():
            raise UsageError(
                f"-o {out_dir} is {path}'s own folder: its copy would replace it",
                hint="use --in-place to replace the files, or -o another folder",
            )
        targets.append(target)
    return targets


def _describe(path: Path, result: Normalized, target: Path | None, check: bool) -> str:
    stream = sys.stdout
    if result.canonical:
        return f"{path}: {colour('canonical', '32', stream)}"
    if check:
        head = f"{path}: {colour('not canonical', '31', stream)}"
    elif target is not None and target == path:
        head = f"{path}: {colour('normalized', '33', stream)} in place"
    else:
        head = f"{path}: {colour('normalized', '33', stream)} → {target}"
    lines = [head]
    width = max(len(r.rule) for r in result.reports)
    for report in result.reports:
        # pseudo-members such as "(gzip header)" are named, real members counted
        pseudo = [m for m in report.members if m.startswith("(")]
        real = [m for m in report.members if not m.startswith("(")]
        parts = [real[0]] if len(real) == 1 else [f"{len(real)} members"] if real else []
        what = ", ".join([*parts, *pseudo]) or report.touches
        lines.append(f"  {report.rule:<{width}}  {what}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from reprobuild._fs import write_chunks_atomic
    from reprobuild.report import envelope, normalize_entry

    if args.list_rules:
        return _list_rules(args.format)
    if not args.files:
        raise UsageError("no FILE given", hint="try 'reprobuild normalize --help'")
    if not (args.check or args.in_place or args.output_dir):
        raise UsageError(
            "say where the normalized archives go",
            hint="add -o DIR, or --in-place; or --check to only check",
        )
    policy = _policy(args)
    targets = _targets(args)
    if args.output_dir is not None:  # checked before any file is read
        writable_folder(
            args.output_dir, what="the output folder", hint="give a writable folder with -o"
        )
    entries: list[JSONValue] = []
    errors = 0
    not_canonical = 0
    for path, target in zip(args.files, targets, strict=True):
        try:
            result = _normalize_file(path, policy, verify=args.verify)
            written = False
            if target is not None and not (result.canonical and target == path):
                target.parent.mkdir(parents=True, exist_ok=True)
                write_chunks_atomic(target, result.chunks, mode=_mode_of(path))
                written = True
        except ReprobuildError as exc:
            print_error(exc.with_path(str(path)))
            errors += 1
            continue
        except OSError as exc:
            print_error(
                ArchiveError(
                    f"cannot write: {reason_of(exc)}",
                    path=str(target or path),
                    hint="check that the file or its folder can be written",
                )
            )
            errors += 1
            continue
        if not result.canonical:
            not_canonical += 1
        if args.format == "json":
            entries.append(
                normalize_entry(
                    str(path), result, output=str(target) if target else None, written=written
                )
            )
        else:
            print(_describe(path, result, target, args.check))
    if args.format == "json":
        print_json(
            envelope(
                "normalize",
                {
                    "source_date_epoch": policy.source_date_epoch,
                    "files": entries,
                    "errors": errors,
                },
            )
        )
    if errors:
        return 2
    return 1 if args.check and not_canonical else 0


def _mode_of(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def _normalize_file(path: Path, policy: Policy, *, verify: bool) -> Normalized:
    from reprobuild._fs import read_bytes_mapped
    from reprobuild.normalize import normalize_bytes

    if path.is_dir():
        raise UsageError(
            "a folder, not an archive",
            path=str(path),
            hint=f"give the archives in it, for example {path / '*.whl'}",
        )
    try:
        data = read_bytes_mapped(path)
    except OSError as exc:
        raise ArchiveError(
            f"cannot read: {reason_of(exc)}",
            path=str(path),
            hint="give wheels, sdists, zip or tar archives that exist and can be read",
        ) from exc
    try:
        return normalize_bytes(data, filename=path.name, policy=policy, verify=verify)
    except ReprobuildError as exc:
        raise exc.with_path(str(path)) from None
    except (ValueError, IndexError, KeyError, OverflowError, UnicodeError) as exc:
        raise ArchiveError(
            f"cannot read this archive ({type(exc).__name__}: {exc})", path=str(path)
        ) from exc
