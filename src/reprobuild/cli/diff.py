"""``reprobuild diff``: explain every difference between two files, archives or folders."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from pathlib import Path

from reprobuild.cli._checks import writable_file
from reprobuild.cli._output import HelpFormatter, Subparsers, json_text, print_json
from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild._types import Buffer
    from reprobuild.compare import CompareOptions, Difference

# The library is imported when the command runs, not when the parser is built (see
# cli/normalize.py). So the categories below are spelled out here; a test keeps them in step
# with compare.difference.INCONSEQUENTIAL.

__all__ = ["register", "run"]

# 2 (bad input or usage) is returned by cli.main for every UsageError raised here
_EXIT_SAME = 0
_EXIT_DIFFERENT = 1

_CONSEQUENTIAL = "content, missing, added"
_INCONSEQUENTIAL = (
    "timestamp, order, permissions, ownership, compression, container, metadata-order"
)
#: CompareOptions().max_diff_lines
_DEFAULT_MAX_DIFF_LINES = 200

_DESCRIPTION = f"""\
Explain every difference between two files or two folders, as a tree in which every difference
has a category. Wheels, sdists and other archives are opened and compared member by member,
and what they hold is compared in turn (gzip → tar → member → JSON …). Two folders are compared
file by file: every regular file below each, by its path relative to the folder (symbolic links
and other special files are skipped).

Categories that can change what gets installed: {_CONSEQUENTIAL}.
Inconsequential categories, which cannot:
  {_INCONSEQUENTIAL}.
The last line of the text output counts the differences by category and says whether any of
them is consequential.

--format chooses what stdout gets: an indented tree (text, coloured on a terminal unless
NO_COLOR is set), a JSON document (schema_version, the tree, counts by category), or one
self-contained HTML page with a collapsible tree and side-by-side diffs. --output-html and
--output-json also write that page or document to a file; both can be given at once.
"""

_EPILOG = """\
examples:
  reprobuild diff dist/demo-1.0-py3-none-any.whl rebuilt/demo-1.0-py3-none-any.whl
  reprobuild diff demo-1.0.tar.gz demo-1.0.rebuilt.tar.gz --exclude '*.pyc'
  reprobuild diff build-1/ build-2/ --exclude __pycache__ --output-html diff.html
  reprobuild diff a.whl b.whl --format json | jq .summary.counts
  reprobuild diff a.whl b.whl --output-html diff.html --output-json diff.json > diff.txt

exit codes: 0 identical, 1 different, 2 bad input or usage (a missing or unreadable file, a file
compared with a folder).
"""

#: Where each --format goes on stdout.
_FORMATS = ("text", "json", "html")


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "diff",
        help="explain every difference between two archives, files or folders",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("a", type=Path, metavar="A", help="a file, archive or folder")
    parser.add_argument("b", type=Path, metavar="B", help="what to compare it with (same kind)")
    parser.add_argument(
        "--format",
        choices=_FORMATS,
        default="text",
        help="what to print on stdout (default: text)",
    )
    parser.add_argument(
        "--max-diff-lines",
        type=_lines,
        default=_DEFAULT_MAX_DIFF_LINES,
        metavar="N",
        help="show at most N lines of each unified diff; 0 for all "
        f"(default: {_DEFAULT_MAX_DIFF_LINES})",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out members and files whose path or name matches GLOB; a folder that "
        "matches is left out with everything in it (repeatable)",
    )
    parser.add_argument(
        "--output-html",
        type=Path,
        metavar="FILE",
        help="also write the HTML page to FILE (atomically)",
    )
    parser.add_argument(
        "--output-json",
        type=Path,
        metavar="FILE",
        help="also write the JSON document to FILE (atomically)",
    )
    parser.set_defaults(run=run)


def _lines(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative (0 shows every line)")
    return value


def _kind(path: Path) -> str:
    """``file`` or ``folder``; UsageError for anything else."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UsageError("no such file or folder", path=str(path), hint="check the path") from None
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    raise UsageError(
        "not a regular file or a folder", path=str(path), hint="compare files or folders"
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc


def _map(path: Path) -> Buffer:
    """A file to compare, mapped (a large one is never read in whole: see
    :func:`~reprobuild._fs.read_bytes_mapped`)."""
    from reprobuild._fs import read_bytes_mapped

    try:
        return read_bytes_mapped(path)
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc


def _read_folder(root: Path, options: CompareOptions) -> dict[str, bytes]:
    """Every regular file below ``root`` by its relative POSIX path, less the excluded ones."""

    def fail(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else str(root)
        raise UsageError(f"cannot read: {exc.strerror or exc}", path=where) from exc

    files: dict[str, bytes] = {}
    for directory, folders, names in os.walk(root, onerror=fail):
        base = Path(directory).relative_to(root).as_posix()
        prefix = "" if base == "." else f"{base}/"
        folders[:] = sorted(f for f in folders if not options.excluded(prefix + f))
        for name in sorted(names):
            relative = prefix + name
            if options.excluded(relative):
                continue
            path = Path(directory, name)
            try:
                if not stat.S_ISREG(path.lstat().st_mode):
                    continue  # symbolic links, sockets, FIFOs: not regular files
            except OSError as exc:
                fail(exc)
            files[relative] = _read(path)
    return files


def _compare_folders(a: Path, b: Path, options: CompareOptions) -> Difference | None:
    files_a = _read_folder(a, options)
    files_b = _read_folder(b, options)
    if files_a == files_b:
        return None
    from reprobuild.compare.tree import compare_trees

    return compare_trees(files_a, files_b, options, name_a=str(a), name_b=str(b))


def _write(path: Path, text: str) -> None:
    from reprobuild._fs import write_bytes_atomic

    try:
        write_bytes_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise UsageError(
            f"cannot write: {exc.strerror or exc}",
            path=str(path),
            hint="check that its folder exists and is writable",
        ) from exc


def run(args: argparse.Namespace) -> int:
    from reprobuild.compare import CompareOptions, Difference, Item, compare
    from reprobuild.present import render_json, render_text

    a: Path = args.a
    b: Path = args.b
    outputs = [p for p in (args.output_html, args.output_json) if p is not None]
    if len(outputs) == 2 and outputs[0].resolve() == outputs[1].resolve():
        raise UsageError(
            f"--output-html and --output-json are both {outputs[0]}",
            hint="write the page and the document to two files",
        )
    for output in outputs:
        if output.resolve() in (a.resolve(), b.resolve()):
            raise UsageError(
                f"{output} is one of the inputs: the report would replace it",
                hint="write the report to another file",
            )
    kind_a, kind_b = _kind(a), _kind(b)
    if kind_a != kind_b:
        raise UsageError(
            f"{a} is a {kind_a} and {b} is a {kind_b}",
            hint="compare two files (or archives), or two folders",
        )
    for output in outputs:  # checked before the comparison, which may take a while
        writable_file(output, hint="write the report into an existing, writable folder")
    options = CompareOptions(max_diff_lines=args.max_diff_lines, exclude=tuple(args.exclude))
    if kind_a == "file":
        found = compare(Item(name=str(a), data=_map(a)), Item(name=str(b), data=_map(b)), options)
    else:
        found = _compare_folders(a, b, options)
    diff = found if found is not None else Difference(source_a=str(a), source_b=str(b))

    page = ""
    if args.format == "html" or args.output_html:
        from reprobuild.present import render_html

        page = render_html(diff)
    doc = render_json(diff) if args.format == "json" or args.output_json else {}
    # the files first: a reader of stdout may stop early (| head) and end the process
    if args.output_html is not None:
        _write(args.output_html, page)
    if args.output_json is not None:
        _write(args.output_json, json_text(doc) + "\n")
    if args.format == "json":
        print_json(doc)
    elif args.format == "html":
        sys.stdout.write(page)
    else:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        sys.stdout.write(render_text(diff, colour=colour, max_diff_lines=args.max_diff_lines))
    sys.stdout.flush()
    # a tree without a category explains nothing: e.g. only excluded members differ
    return _EXIT_DIFFERENT if diff.counts() else _EXIT_SAME
