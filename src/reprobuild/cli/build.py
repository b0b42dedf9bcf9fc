"""``reprobuild build``: a deterministic sdist and wheel of any PEP 517 project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reprobuild.cli._cache import add_cache_dir_argument, cache_dir_of
from reprobuild.cli._checks import writable_folder
from reprobuild.cli._epoch import epoch_argument, epoch_from_environment
from reprobuild.cli._output import HelpFormatter, Subparsers, print_json, say
from reprobuild.cli._remote import add_remote_arguments, caches_of, check_remote_arguments
from reprobuild.cli._sandbox import add_sandbox_arguments, describe_sandbox, sandbox_of
from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

    from reprobuild.build import BuildResult, BuildSpec
    from reprobuild.buildinfo import BuildOutput
    from reprobuild.report import JSONValue

__all__ = ["register", "run"]

_DESCRIPTION = """\
Build the sdist of a project, then its wheel from that sdist, so that the bytes depend on the
source alone. The build runs at a fixed path, in an isolated environment of pinned build
requirements (created with uv, cached by the pinned set), with SOURCE_DATE_EPOCH set, TZ=UTC, a
UTF-8 locale, PYTHONHASHSEED=0, umask 022, a throw-away HOME and no other variable from your
shell; every source file's time is set to SOURCE_DATE_EPOCH. Both artifacts are then
normalized (see 'reprobuild normalize'), and a buildinfo record of every input and output is
written beside them.

--sdist builds the sdist alone. --wheel builds the wheel alone: from a project folder straight
from the folder, with no sdist made (as 'python -m build --wheel' does: for a project whose
sdist cannot be built, or does not hold what its wheel needs); from an sdist, the wheel without
the sdist's copy. Both, or neither, build the sdist and then the wheel from that sdist.
-C KEY=VALUE passes a PEP 517 config setting to every hook of the backend, as pypa/build's -C
does (a key given twice holds a list; -C KEY alone gives it the value ""). Settings, like
every other input, are recorded in the buildinfo and are part of the build's cache key.

SOURCE_DATE_EPOCH comes from --source-date-epoch, else the environment, else the last commit
of a git checkout, else the newest member of an sdist given as SOURCE, else 315532800.

A build is an action of the action cache (see 'reprobuild graph'), keyed by everything its
output can depend on (the source's digest, every setting, the interpreter, the platform, the
sandbox and the pinned build requirements): built once, it is found there the next time and
its files copied out, and stderr says so ("found in the cache: ..."); --no-cache builds again.
--remote-cache URL shares builds with a Bazel-style HTTP cache and reads from it too (a build
is not a verdict), except with --buildinfo, whose check rests only on this machine's builds.
Without --exclude-newer the build requirements resolve as of now, and a cached build is used
only while they still resolve to what it installed.
"""

_EPILOG = """\
examples:
  reprobuild build                                # the project in this folder, into dist/
  reprobuild build path/to/project -o out/
  reprobuild build demo-1.0.tar.gz                # the wheel of a released sdist
  reprobuild build --wheel .                      # the wheel alone, straight from the folder
  reprobuild build --sdist -o dist/ .             # the sdist alone
  reprobuild build -C--build-option=--py-limited-api=cp311 .   # setuptools' own options
  reprobuild build -C setup-args=-Dblas=openblas .              # meson-python's
  reprobuild build --exclude-newer 2024-06-01 .   # build requirements as they were that day
  reprobuild build --buildinfo dist/demo-1.0.buildinfo.json .   # rebuild into dist/rebuilt/

exit codes: 0 built (and, with --buildinfo, identical), 1 outputs differ from the buildinfo,
2 bad input (a wheel as SOURCE, --sdist from an sdist; an output or cache folder that cannot
be written: refused before the build), 3 the build failed. An error names SOURCE as given; the
build runs in a copy of it at a fixed path, and when the backend's log names that path, the
hint says what it is a copy of.
"""


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "build",
        help="build a deterministic sdist and wheel, with a buildinfo record",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=Path(),
        metavar="SOURCE",
        help="a project folder or an sdist (default: this folder)",
    )
    parser.add_argument(
        "-o",
        "--outdir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the artifacts go (default: dist/ in the project folder; for an sdist or "
        "with --buildinfo, rebuilt/ beside the sdist or the record)",
    )
    parser.add_argument(
        "-s",
        "--sdist",
        action="store_true",
        help="build the sdist only (from a project folder)",
    )
    parser.add_argument(
        "-w",
        "--wheel",
        action="store_true",
        help="build the wheel only: from a project folder straight from the folder, no sdist "
        "made (with --sdist too: both, the wheel from the sdist, as without either)",
    )
    parser.add_argument(
        "-C",
        "--config-setting",
        action="append",
        default=[],
        metavar="KEY[=VALUE]",
        help="a PEP 517 config setting for the backend's hooks (repeatable; a key given "
        "twice holds a list). A value starting with '-' goes in the same word: "
        "-C--build-option=--foo or --config-setting=--build-option=--foo",
    )
    parser.add_argument(
        "--source-date-epoch",
        type=epoch_argument,
        metavar="SECONDS",
        help="the build's SOURCE_DATE_EPOCH",
    )
    parser.add_argument(
        "--exclude-newer",
        type=_date,
        metavar="DATE",
        help="resolve build requirements as they were on DATE (YYYY-MM-DD or an RFC 3339 time)",
    )
    parser.add_argument(
        "--no-normalize",
        action="store_true",
        help="keep the backend's raw output (still built under control)",
    )
    parser.add_argument(
        "--buildinfo",
        type=Path,
        metavar="FILE",
        help="rebuild with the inputs recorded in FILE and check the outputs",
    )
    add_cache_dir_argument(parser, holds="build environments and builds (the action cache) are")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="build even when the action cache holds this build (the new one is kept)",
    )
    add_remote_arguments(
        parser,
        use="also look for the build in (and write it to) this Bazel-style HTTP cache; with "
        "--buildinfo it is only written",
    )
    add_sandbox_arguments(parser)
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="how to print the result on stdout (default: text)",
    )
    parser.set_defaults(run=run)


def _date(text: str) -> datetime:
    from datetime import UTC, datetime

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _spec(args: argparse.Namespace) -> BuildSpec:
    from reprobuild.build import BuildSpec

    source: Path = args.source
    if args.buildinfo is not None:
        fixed = [
            flag
            for flag, given in (
                ("--source-date-epoch", args.source_date_epoch is not None),
                ("--exclude-newer", args.exclude_newer is not None),
                ("--no-normalize", args.no_normalize),
                ("--sdist", args.sdist),
                ("--wheel", args.wheel),
                ("--config-setting", bool(args.config_setting)),
            )
            if given
        ]
        if fixed:
            raise UsageError(
                f"{', '.join(fixed)} cannot be combined with --buildinfo",
                hint="a rebuild from a buildinfo record uses the record's inputs",
            )
    if args.outdir is not None:
        outdir = args.outdir
    elif args.buildinfo is not None:
        outdir = args.buildinfo.parent / "rebuilt"
    else:
        outdir = source / "dist" if source.is_dir() else source.parent / "rebuilt"
    if args.buildinfo is not None and outdir.resolve() == args.buildinfo.resolve().parent:
        raise UsageError(
            "the output folder holds the buildinfo record being checked: the rebuild would "
            "overwrite it",
            path=str(args.buildinfo),
            hint="choose another folder with -o",
        )
    cache_dir = cache_dir_of(args)
    sdist_only = args.sdist and not args.wheel
    wheel_only = args.wheel and not args.sdist
    if sdist_only and source.is_file():
        raise UsageError(
            "an sdist, not a project folder: --sdist builds an sdist from a project's folder",
            path=str(source),
            hint="give the project folder, or drop --sdist to build the wheel of this sdist",
        )
    if source.is_file() and source.name.endswith(".whl"):
        raise UsageError(
            "a wheel, not an sdist or a project folder: there is nothing to build it from",
            path=str(source),
            hint="give the project folder or its sdist (.tar.gz); to check a wheel against "
            "its sdist: reprobuild verify --wheel FILE.whl --sdist FILE.tar.gz",
        )
    if source.exists():  # a missing source is the build's to report, with no folder made
        # where the results go is checked before the build, not after it
        writable_folder(outdir, what="the output folder", hint="give a writable folder with -o")
        writable_folder(
            cache_dir,
            what="the cache folder",
            hint="give a writable folder with --cache-dir (or set REPROBUILD_CACHE_DIR)",
        )
    epoch, origin = args.source_date_epoch, "option"
    if epoch is None:
        epoch, origin = epoch_from_environment(), "environment"
    return BuildSpec(
        source=source,
        outdir=outdir,
        cache_dir=cache_dir,
        source_date_epoch=epoch,
        source_date_epoch_from=origin,
        exclude_newer=args.exclude_newer,
        normalize=not args.no_normalize,
        sandbox=sandbox_of(args),
        sdist_only=sdist_only,
        wheel_only=wheel_only,
        config_settings=config_settings(args.config_setting),
    )


def config_settings(given: list[str]) -> dict[str, str | list[str]]:
    """``-C KEY=VALUE`` options as PEP 517 config settings, as pypa/build reads them: a key
    with no ``=`` has the value ``""``; a key given several times, the list of its values in
    order."""
    settings: dict[str, str | list[str]] = {}
    for text in given:
        key, _, value = text.partition("=")
        if not key:
            raise UsageError(
                f"--config-setting {text!r} names no key",
                hint="give KEY=VALUE, e.g. -C--build-option=--quiet",
            )
        if key not in settings:
            settings[key] = value
            continue
        before = settings[key]
        settings[key] = [*([before] if isinstance(before, str) else before), value]
    return settings


def _print(result: BuildResult, fmt: str, mismatches: list[str] | None) -> None:
    """The outputs; ``mismatches`` is None when no buildinfo was replayed."""
    if fmt == "json":
        from reprobuild.rebuild.document import rebuild_document
        from reprobuild.report import envelope

        body: dict[str, JSONValue] = {
            "outputs": [
                {"path": str(path), "filename": o.filename, "sha256": o.sha256, "size": o.size}
                for path, o in zip(result.paths, result.outputs, strict=True)
            ],
            "buildinfo": str(result.buildinfo_path),
            "source_date_epoch": result.buildinfo["source_date_epoch"],
            "sandbox": result.buildinfo.get("sandbox"),
            "matches_buildinfo": None if mismatches is None else not mismatches,
            "mismatches": list(mismatches or []),
            "rebuild": rebuild_document(result.action),
        }
        print_json(envelope("build", body))
        return
    for path, output in zip(result.paths, result.outputs, strict=True):
        print(f"{path}  sha256:{output.sha256}  {output.size} bytes")
    print(f"{result.buildinfo_path}")
    epoch = result.buildinfo.get("source_date_epoch")
    if isinstance(epoch, int):
        from datetime import UTC, datetime

        origin = _EPOCH_ORIGINS.get(str(result.buildinfo.get("source_date_epoch_from")), "")
        when = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        print(f"SOURCE_DATE_EPOCH {epoch} ({when}{origin})")
    print(f"sandbox: {describe_sandbox(result.buildinfo.get('sandbox'))}")
    if mismatches == []:
        print(f"identical to the buildinfo record: {len(result.outputs)} files, byte for byte")


#: where a build's SOURCE_DATE_EPOCH came from, as said after the time
_EPOCH_ORIGINS = {
    "option": ", from --source-date-epoch",
    "environment": ", from the environment's SOURCE_DATE_EPOCH",
    "git": ", the last commit's time",
    "sdist": ", the sdist's newest member time",
    "default": ": the project is no git checkout and none was given, so 1980-01-01 is used",
    "buildinfo": ", from the buildinfo record",
    "recipe": "",
}


def run(args: argparse.Namespace) -> int:
    from reprobuild.rebuild.cached import CachedRebuilder

    check_remote_arguments(args)
    spec = _spec(args)
    expected = None
    recorded_source = None
    if args.buildinfo is not None:
        spec, expected, recorded_source = _replay(spec, args.buildinfo)

    def progress(message: str) -> None:
        say(message)

    def warn(line: str) -> None:
        progress(f"warning: {line}")

    build = CachedRebuilder(
        caches=lambda: caches_of(args, spec.cache_dir, warn=warn),
        use_cache=not args.no_cache,
        trust_remote=args.buildinfo is None,
        warn=warn,
    )
    result = build(spec, progress=progress)
    mismatches: list[str] | None = None
    if expected is not None:
        mismatches = []
        produced = {o.filename: o for o in result.outputs}
        for want in expected:
            got = produced.get(want.filename)
            if got is None:
                mismatches.append(f"{want.filename}: not produced")
            elif got.sha256 != want.sha256:
                mismatches.append(
                    f"{want.filename}: sha256 {got.sha256}, buildinfo says {want.sha256}"
                )
    _print(result, args.format, mismatches)
    for line in mismatches or []:
        print(f"differs from {args.buildinfo}: {line}", file=sys.stderr)
    if mismatches:
        now = _source_digest(result.buildinfo)
        if recorded_source and now and recorded_source != now:
            print(
                f"the source is not the record's: its files hash to {now}, the record's to "
                f"{recorded_source}",
                file=sys.stderr,
            )
        print(
            f"hint: reprobuild diff FILE {spec.outdir}/FILE shows how each differs (FILE: the "
            "file the record names, if you kept it)",
            file=sys.stderr,
        )
    return 1 if mismatches else 0


def _source_digest(doc: dict[str, JSONValue]) -> str | None:
    """The sha256 a buildinfo record gives its source."""
    source = doc.get("source")
    digest = source.get("sha256") if isinstance(source, dict) else None
    return digest if isinstance(digest, str) else None


def _replay(spec: BuildSpec, path: Path) -> tuple[BuildSpec, tuple[BuildOutput, ...], str | None]:
    """The spec a buildinfo record describes, the outputs it promises, and its source's
    sha256."""
    from dataclasses import replace

    from reprobuild.buildinfo import load_buildinfo, outputs_of, pins_of

    doc = load_buildinfo(path)
    _check_backend(doc, spec.source, path)
    epoch = doc["source_date_epoch"]
    if not isinstance(epoch, int):
        raise UsageError("buildinfo source_date_epoch is not a number", path=str(path))
    pins = pins_of(doc, path=str(path))
    clock = doc.get("build_clock")
    closing = doc.get("closing_clock")
    dist_info = doc.get("dist_info_clock")
    sdist_clock = doc.get("sdist_clock")
    outputs = outputs_of(doc, path=str(path))
    wheels = any(o.filename.endswith(".whl") for o in outputs)
    sdists = any(not o.filename.endswith(".whl") for o in outputs)
    spec = replace(
        spec,
        sdist_only=not wheels,
        wheel_only=wheels and not sdists,
        config_settings=_recorded_settings(doc, path),
        build_clock=clock if isinstance(clock, int) else None,
        closing_clock=closing if isinstance(closing, int) else None,
        dist_info_clock=dist_info if isinstance(dist_info, int) else None,
        sdist_clock=sdist_clock if isinstance(sdist_clock, int) else None,
        setup_py=doc.get("setup_py") is True,
        keep_egg_info=doc.get("keep_egg_info") is True,
        source_date_epoch=epoch,
        source_date_epoch_from="buildinfo",
        normalize=bool(doc.get("normalized", True)),
        pins=pins,
    )
    return spec, outputs, _source_digest(doc)


def _recorded_settings(doc: dict[str, JSONValue], path: Path) -> dict[str, str | list[str]]:
    """The config settings a buildinfo record gives (none when it gives null)."""
    recorded = doc.get("config_settings")
    if recorded is None:
        return {}
    settings: dict[str, str | list[str]] = {}
    if isinstance(recorded, dict):
        for key, value in recorded.items():
            if isinstance(value, str):
                settings[key] = value
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                settings[key] = [str(v) for v in value]
            else:
                break
        else:
            return settings
    raise UsageError(
        "buildinfo config_settings is not an object of strings and lists of strings",
        path=str(path),
    )


def _check_backend(doc: dict[str, JSONValue], source: Path, path: Path) -> None:
    """Refuse a record made with another build backend than the project's (another project's
    record, most likely), before installing anything."""
    from reprobuild.frontend import read_build_system

    system = doc.get("build_system")
    recorded = system.get("build_backend") if isinstance(system, dict) else None
    if not source.is_dir() or not isinstance(recorded, str):
        return
    actual = read_build_system(source).build_backend
    if actual != recorded:
        name = doc.get("source", {})
        project = name.get("name") if isinstance(name, dict) else None
        raise UsageError(
            f"this record was made with the backend {recorded!r}"
            + (f" for {project}" if project else "")
            + f"; {source} uses {actual!r}",
            path=str(path),
            hint="give the buildinfo record of this project",
        )
