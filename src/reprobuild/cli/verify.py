"""``reprobuild verify``: rebuild a published release and judge it bit for bit."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from reprobuild.cli._attest import add_attest_arguments, attest_verification, signing_key_of
from reprobuild.cli._cache import add_cache_dir_argument, cache_dir_of, results_db_of
from reprobuild.cli._checks import reason_of, writable_folder
from reprobuild.cli._output import (
    HelpFormatter,
    Subparsers,
    colour,
    job_count,
    print_json,
    say,
    shown,
)
from reprobuild.cli._release import check_local, parse_verify_release
from reprobuild.cli._remote import add_remote_arguments, check_remote_arguments
from reprobuild.cli._sandbox import add_sandbox_arguments, describe_sandbox, sandbox_of
from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.attest import Publisher
    from reprobuild.rebuild import ArtifactResult, Verification
    from reprobuild.report import JSONValue
    from reprobuild.strategy import Recipe

__all__ = ["register", "run"]

_DESCRIPTION = """\
Download a release from the package index, work out how each of its pure-Python wheels was
built, rebuild it from the release's sdist, and say whether the published file is reproduced
byte for byte.

How a wheel was built is inferred from the wheel itself and shown as a recipe, each field with
its evidence: the backend and its version (WHEEL's Generator line), SOURCE_DATE_EPOCH (when all
members share one time), the date build requirements resolve at (the upload time), the umask
(the file modes) and the Python (the newest at upload time).

A Python this machine lacks is looked for with uv ('uv python find'), then installed with
'uv python install' (it downloads a CPython build: once per version in a run, stopped after
two minutes, its failure remembered); without it, as on a machine without internet access or
with --no-python-downloads, the nearest Python this machine has is used and the recipe shows
the substitution and why.

Release steps no artifact records come from recipe override files (reprobuild's own, and
--recipes DIR); results say when one was used.

Verdicts: reproducible (same sha256), equivalent (identical after normalization; the categories
that differed are listed), different (with the cause), not-verifiable (no sdist, or a
compiled wheel), build-failed (with the cause and the log's tail).

Each rebuild is an action of the action cache (see 'reprobuild graph'), keyed by everything
its output can depend on: the sdist's sha256, the recipe, the interpreter, the platform, the
sandbox and the pinned build requirements. Verifying a release again finds its rebuild there
and says so ("rebuilt: cache hit (local), built TIME on HOST"); --no-cache rebuilds. A remote
cache (--remote-cache URL) is written, but a verdict rests on what it holds only with
--trust-remote-cache: an entry there is another machine's claim, not a rebuild.

The index is pip's: its index-url and extra-index-url settings (pip config list), or
--index-url.
"""

_EPILOG = """\
examples:
  reprobuild verify ipython==7.16.1
  reprobuild verify ipython==7.16.1 --format json
  reprobuild verify ipython==7.16.1 --format html > ipython.html
  reprobuild verify --wheel demo-1.0-py3-none-any.whl --sdist demo-1.0.tar.gz
  reprobuild verify demo==1.0 --source ./demo          # the sdist from a checkout, too
  reprobuild verify demo==1.0 --recipes my-recipes/    # my-recipes/demo.toml
  reprobuild verify -r releases.txt --jobs 2            # one NAME==VERSION per line
  reprobuild verify demo==1.0 --keep rebuilt/           # keep the rebuilt files
  reprobuild verify ipython==7.16.1 --no-overrides      # what inference alone gives
  reprobuild results --latest                           # what every attempt found
  reprobuild verify ipython==7.16.1 --attest attestations/   # signed, failures too

exit codes: 0 every wheel reproducible, 1 otherwise (equivalent, different, not verifiable,
build failed), 2 bad input, 3 the index or the machine failed.

Bad input is refused before the index is asked or anything built, and is not recorded: a name
or version packaging does not accept, --wheel/--sdist files that are missing, folders, do not
read, or belong to two releases, and a cache folder or --db that cannot be written.
"""


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "verify",
        help="rebuild a published release and judge it bit for bit",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "release", nargs="?", metavar="NAME==VERSION", help="a release on the package index"
    )
    # more releases than one: refused with a hint at -r (not shown in the usage)
    parser.add_argument("more_releases", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument(
        "-r",
        "--releases",
        type=Path,
        metavar="FILE",
        help="verify every NAME==VERSION line of FILE (# starts a comment)",
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a local wheel to verify (repeatable; with --sdist, instead of NAME==VERSION)",
    )
    parser.add_argument("--sdist", type=Path, metavar="FILE", help="the sdist to rebuild from")
    parser.add_argument(
        "--source",
        type=Path,
        metavar="PATH",
        help="a checkout of the release: its sdist is rebuilt from it and judged too (with "
        "NAME==VERSION or --sdist; alone, the name and version are read from its pyproject.toml)",
    )
    parser.add_argument(
        "--index-url",
        action="append",
        default=[],
        metavar="URL",
        help="a simple-API index to use instead of pip's (repeatable)",
    )
    parser.add_argument(
        "--recipes",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of recipe override files NAME.toml, searched before reprobuild's own",
    )
    parser.add_argument(
        "--no-overrides",
        action="store_true",
        help="ignore every recipe override file, reprobuild's own too: the recipe is inferred "
        "from the published files alone",
    )
    add_cache_dir_argument(
        parser, holds="downloads, build environments and rebuilds (the action cache) are"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="rebuild even when the action cache holds the rebuild (the new one is kept)",
    )
    add_remote_arguments(
        parser,
        use="write each rebuild to this Bazel-style HTTP cache too; read from it only with "
        "--trust-remote-cache",
    )
    parser.add_argument(
        "--trust-remote-cache",
        action="store_true",
        help="let a verdict rest on a rebuild found in the remote cache (another machine's "
        "claim, checked against its digests, not a rebuild here)",
    )
    add_sandbox_arguments(parser)
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="the SQLite database every attempt is recorded in (default: results.sqlite3 in "
        "the cache folder); see 'reprobuild results'",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=job_count,
        default=1,
        metavar="N",
        help="with -r: verify N releases at a time, each in its own build folder (default 1)",
    )
    parser.add_argument(
        "--no-python-downloads",
        action="store_true",
        help="never run 'uv python install' for a Python this machine lacks: the nearest it "
        "has is used, and shown as a substitution (uv's own UV_PYTHON_DOWNLOADS=never does the "
        "same); Pythons uv has already are still used",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the rebuilt files in DIR, for inspection: each judged rebuild under the "
        "name its build gave it, with its buildinfo record as FILE.buildinfo.json (compare "
        "one with the published file: reprobuild diff PUBLISHED DIR/FILE)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="how to print the results: text, a JSON document, or one self-contained HTML page "
        "(a table of verdicts; each artifact's recipe, evidence and difference tree); "
        "default: text",
    )
    # --attest: signed attestations of every verdict (reprobuild.attest)
    add_attest_arguments(
        parser,
        what="every judged artifact (its rebuild's provenance and the verdict, failures too)",
    )
    parser.add_argument(
        "--publish-attestation",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a PEP 740 publish attestation of an artifact (ARTIFACT.publish.attestation or "
        "ARTIFACT.provenance): who published it is shown beside the rebuild (one beside a "
        "--wheel or --sdist file is read too)",
    )
    parser.set_defaults(run=run)


def _publishers(args: argparse.Namespace, verification: Verification) -> dict[str, Publisher]:
    """The publish attestations of the verification's artifacts: given, or beside a local
    file; the checkout's commit (--source) is what they must name."""
    if not args.publish_attestation and not (args.wheel or args.sdist):
        return {}
    from reprobuild.cli.attest import publishers_for

    local = {p.name: p for p in [*args.wheel, *([args.sdist] if args.sdist else [])]}
    commit = None
    if args.source is not None:
        from reprobuild.frontend import git_commit_info

        info = git_commit_info(args.source)
        commit = info.commit if info is not None else None
    artifacts = [(r.filename, r.sha256, local.get(r.filename)) for r in verification.results]
    if verification.sdist and all(verification.sdist != r.filename for r in verification.results):
        from reprobuild._fs import sha256_file

        sdist = local.get(verification.sdist)
        if sdist is not None:
            artifacts.append((sdist.name, sha256_file(sdist), sdist))
    return publishers_for(artifacts, args.publish_attestation, commit=commit)


def _read_releases(path: Path) -> list[str]:
    hint = "give a text file with one NAME==VERSION per line (# starts a comment)"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read: {reason_of(exc)}", path=str(path), hint=hint) from exc
    except UnicodeError as exc:
        raise UsageError("cannot read: not UTF-8 text", path=str(path), hint=hint) from exc
    releases = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            parse_verify_release(line)  # refuse a bad line before anything runs
        except UsageError as exc:
            raise exc.with_path(f"{path}:{number}") from None
        releases.append(line)
    if not releases:
        raise UsageError("no NAME==VERSION line", path=str(path), hint=hint)
    return releases


def _checkout_release(source: Path) -> str:
    """NAME==VERSION from the static ``[project]`` table of a checkout's pyproject.toml."""
    import tomllib

    hint = "give the release too: reprobuild verify NAME==VERSION --source PATH"
    path = source / "pyproject.toml"
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except FileNotFoundError:
        raise UsageError(
            "no pyproject.toml to read the name and version from", path=str(source), hint=hint
        ) from None
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read: {exc}", path=str(path), hint=hint) from exc
    name, version = project.get("name"), project.get("version")
    if not isinstance(name, str) or not isinstance(version, str):
        raise UsageError(
            "the [project] table does not state both name and version (a dynamic version?)",
            path=str(path),
            hint=hint,
        )
    return f"{name}=={version}"


def run(args: argparse.Namespace) -> int:
    from reprobuild.cli._batch import Bar, run_parallel, run_serial
    from reprobuild.frontend import find_pythons
    from reprobuild.rebuild.history import (
        INDEX,
        LOCAL,
        check_database,
        record_failure,
        record_verification,
    )

    cache_dir = cache_dir_of(args)
    db = results_db_of(args)
    if args.more_releases:
        raise UsageError(
            f"one NAME==VERSION at a time, not {1 + len(args.more_releases)}",
            hint="to verify several, write one NAME==VERSION per line in a file and give it "
            "with -r FILE (--jobs N verifies N at a time)",
        )
    local = bool(args.wheel or args.sdist)
    chosen = sum((local, bool(args.release), args.releases is not None))
    if chosen > 1:
        raise UsageError("give one of NAME==VERSION, -r FILE, or --wheel/--sdist, not several")
    if chosen == 0 and args.source is None:
        raise UsageError(
            "nothing to verify", hint="give NAME==VERSION, -r FILE, or --wheel FILE --sdist FILE"
        )
    if args.no_overrides and args.recipes:
        raise UsageError("--no-overrides ignores the --recipes folders: give one or the other")
    if args.source is not None:
        if args.releases is not None:
            raise UsageError("--source is one checkout: it does not go with -r FILE")
        if not args.source.is_dir():
            raise UsageError("not a folder", path=str(args.source), hint="give a checkout")
        if chosen == 0:
            args.release = _checkout_release(args.source)
            chosen = 1
    check_remote_arguments(args)
    if args.trust_remote_cache and not args.remote_cache:
        raise UsageError("--trust-remote-cache needs --remote-cache URL")
    if args.trust_remote_cache and args.no_cache:
        raise UsageError("--no-cache rebuilds everything: it does not go with --trust-remote-cache")
    if args.jobs > 1 and args.releases is None:
        raise UsageError("--jobs needs -r FILE", hint="one release is verified by one job")
    local_release: tuple[str, str] | None = None
    if args.releases is not None:
        releases = _read_releases(args.releases)
    elif local:
        local_release = check_local(args)  # files that do not read are refused, unrecorded
        releases = [str(args.sdist)]
    else:
        parse_verify_release(args.release)  # a bad one is refused before anything runs
        releases = [args.release]
    # where the results go is checked before the work, not after it
    writable_folder(
        cache_dir,
        what="the cache folder",
        hint="give a writable folder with --cache-dir (or set REPROBUILD_CACHE_DIR)",
    )
    check_database(db)
    if args.keep is not None:
        writable_folder(args.keep, what="the --keep folder", hint="give a writable folder")
    signing_key = signing_key_of(args)  # read, and its folder checked, before any work
    # the sandbox is chosen (or refused) before any work; workers take it from args
    args.chosen_sandbox = sandbox_of(args)
    origin = LOCAL if local else INDEX
    # rebuilds are staged here (by their digest, worker processes too), and the judged ones
    # copied out as each verification ends; the staging folder goes with this object
    staging = _keep_staging(args.keep)
    args.keep_staging = Path(staging.name) if staging is not None else None
    # failed 'uv python install's are remembered here for the run (its workers too)
    python_state = tempfile.TemporaryDirectory(prefix="reprobuild-pythons-")
    args.python_state = Path(python_state.name)
    pythons = find_pythons()
    batch = len(releases) > 1
    bar = Bar(len(releases), sys.stderr) if batch else None

    def progress(message: str) -> None:
        if bar is None or not bar.live:
            say(message)

    if args.jobs > 1:
        outcomes = run_parallel(releases, args, cache_dir, pythons, bar)
    else:
        outcomes = run_serial(releases, args, cache_dir, pythons, bar, progress)
    verifications: list[tuple[int, Verification]] = []
    published: dict[tuple[str, str], dict[str, Publisher]] = {}
    kept: dict[str, Path] = {}  # where each judged file's rebuild was kept (--keep)
    worst = 0
    for outcome in outcomes:
        if outcome.verification is None:
            name, _, version = outcome.release.partition("==")
            if local_release is not None:
                name, version = local_release
            record_failure(
                db,
                name=name,
                version=version,
                cause=outcome.error,
                started=outcome.started,
                seconds=outcome.seconds,
                origin=origin,
            )
            if bar is not None:
                bar.clear()
            print(f"error: {outcome.error}", file=sys.stderr)
            if outcome.hint:
                print(f"hint: {outcome.hint}", file=sys.stderr)
            worst = max(worst, outcome.exit_code)
        else:
            record_verification(db, outcome.verification, started=outcome.started, origin=origin)
            verifications.append((outcome.index, outcome.verification))
            if args.keep_staging is not None:
                from reprobuild.rebuild.kept import place_kept

                kept.update(place_kept(outcome.verification, args.keep_staging, args.keep))
            publishers = _publishers(args, outcome.verification)
            published[outcome.verification.name, outcome.verification.version] = publishers
            if any(p.mismatches for p in publishers.values()):
                worst = max(worst, 1)
            if signing_key is not None:
                attest_verification(args.attest, outcome.verification, signing_key, publishers)
            if args.format == "text":
                if bar is not None:
                    bar.clear()
                _print_text(outcome.verification, publishers, kept)
        if bar is not None:
            bar.done(outcome)
    if bar is not None:
        bar.finish()
    if staging is not None:
        staging.cleanup()
    python_state.cleanup()
    verifications.sort(key=lambda pair: pair[0])
    ordered = [v for _, v in verifications]
    if args.format == "json":
        from reprobuild.rebuild.document import verification_document
        from reprobuild.report import envelope

        def document(verification: Verification) -> dict[str, JSONValue]:
            doc = verification_document(verification)
            found = published.get((verification.name, verification.version), {})
            if found:  # who published the files, from their publish attestations
                doc["publishers"] = {name: p.to_json() for name, p in found.items()}
            artifacts = doc["artifacts"]
            if args.keep is not None and isinstance(artifacts, list):  # where each was kept
                for artifact, result in zip(artifacts, verification.results, strict=True):
                    if isinstance(artifact, dict):
                        where = kept.get(result.filename)
                        artifact["kept"] = str(where) if where is not None else None
            return doc

        if args.releases is None and ordered:
            print_json(envelope("verify", document(ordered[0])))
        else:
            body: dict[str, JSONValue] = {"releases": [document(v) for v in ordered]}
            print_json(envelope("verify", body))
    elif args.format == "html":
        from reprobuild.rebuild.page import verification_page

        sys.stdout.write(verification_page(ordered))
    if worst:
        return worst
    return 0 if ordered and all(v.reproducible for v in ordered) else 1


_COLOURS = {
    "reproducible": "32",
    "equivalent": "33",
    "different": "31",
    "not-verifiable": "2",
    "build-failed": "31",
}


def _keep_staging(folder: Path | None) -> tempfile.TemporaryDirectory[str] | None:
    """The folder ``--keep`` stages rebuilds in, inside ``folder`` (removed with the object,
    whatever happens); None without ``--keep``."""
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=".reprobuild-keep-", dir=folder)


def _print_text(
    verification: Verification,
    publishers: dict[str, Publisher] | None = None,
    kept: dict[str, Path] | None = None,
) -> None:
    publishers = publishers or {}
    out = sys.stdout
    rebuilt = any(r.verdict.value != "not-verifiable" for r in verification.results)
    source = f" (rebuilt from {verification.sdist})" if verification.sdist and rebuilt else ""
    print(f"{shown(verification.name)} {shown(verification.version)}{shown(source)}")
    from reprobuild.rebuild.verify import COMPILED

    # a release of compiled wheels only lists them in one line, not one each
    compiled = [r for r in verification.results if r.cause == COMPILED]
    grouped = len(compiled) > 1
    for result in verification.results:
        if grouped and result.cause == COMPILED:
            continue
        # with what the verdict rests on besides reading: "reproducible (fitted: …)"
        verdict = colour(result.verdict_text, _COLOURS[result.verdict.value], out)
        checkout = " (rebuilt from the checkout)" if result.filename == verification.sdist else ""
        print(f"  {shown(result.filename)}{checkout}: {verdict}  [{result.seconds:.1f} s]")
        _print_details(result, (kept or {}).get(result.filename))
        if result.filename in publishers:
            from reprobuild.cli.attest import describe_publisher

            for line in describe_publisher(publishers[result.filename]):
                print(f"    {line}")
    if grouped:
        verdict = colour(compiled[0].verdict.value, _COLOURS[compiled[0].verdict.value], out)
        print(f"  {len(compiled)} compiled wheels ({compiled[0].filename}, …): {verdict}")
        print(f"    cause: {COMPILED} (--format json lists each)")
    judged = {r.filename for r in verification.results}
    for name, publisher in publishers.items():
        if name not in judged:  # the sdist the wheels were rebuilt from
            from reprobuild.cli.attest import describe_publisher

            print(f"  {shown(name)} (the sdist):")
            for line in describe_publisher(publisher):
                print(f"    {line}")
    if rebuilt and verification.sandbox:
        print(f"  sandbox: {describe_sandbox(dict(verification.sandbox))}")
    if any(r.difference is not None or r.log_tail for r in verification.results):
        print(f"  the full report: {_FULL_REPORT}")


def _recipe_lines(recipe: Recipe) -> list[str]:
    """The recipe's fields as text, the same fields as its JSON document, each once: those
    read with the reasons of their evidence, then the rest (left at their defaults) on one
    line. Fitted fields are shown apart, with their tries."""
    from reprobuild.rebuild.document import recipe_document

    values = {k: v for k, v in recipe_document(recipe).items() if k not in ("evidence", "fitted")}
    reasons: dict[str, list[str]] = {}
    for evidence in recipe.evidence:
        reasons.setdefault(evidence.field, []).append(evidence.reason)
    fitted = {f.field for f in recipe.fitted}
    lines, unset = [], []
    for field in [*values, *(f for f in reasons if f not in values)]:
        value = _value_text(field, values.get(field))
        if field in reasons:
            lines.append(f"{field} = {value}  ({'; '.join(reasons[field])})")
        elif field not in fitted:
            unset.append(f"{field} = {value}")
    if unset:
        lines.append("as by default: " + ", ".join(unset))
    return lines


def _value_text(field: str, value: JSONValue) -> str:
    """A recipe field's JSON value as text: times as dates, yes/no, lists joined."""
    from reprobuild.compare.nodes import format_time

    if field == "source_date_epoch":
        return "unset" if value is None else f"{value} ({format_time(int(str(value)))})"
    if field in (
        "build_clock",
        "closing_clock",
        "dist_info_clock",
        "sources_time",
    ) and isinstance(value, int):
        return format_time(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return "none" if value is None else str(value)


#: Where the differences and build logs that the text shortens are shown whole.
_FULL_REPORT = "run again with --format html (every difference side by side) or --format json"


def _print_details(result: ArtifactResult, kept: Path | None = None) -> None:
    from reprobuild.cli._output import colour_on
    from reprobuild.present import render_excerpt

    # causes, evidence and log lines may quote what a release holds (names, a backend's
    # output): their controls are shown escaped, so they cannot drive the terminal
    if result.cause:
        print(f"    cause: {shown(result.cause)}")
    if result.difference is not None:
        print(f"    differences: {result.difference.summary()}")
        sys.stdout.write(render_excerpt(result.difference, colour=colour_on(sys.stdout), depth=2))
    for said in result.contained:
        print(f"    contained by the sandbox: {shown(said)}")
    if result.rebuilt_sha256:
        from reprobuild.rebuild.document import describe_rebuild

        print(f"    rebuilt: {shown(describe_rebuild(result.rebuild))}")
    if result.rebuilt_sha256 and result.rebuilt_sha256 != result.sha256:
        print(f"    published sha256 {result.sha256}")
        print(f"    rebuilt   sha256 {result.rebuilt_sha256}")
    elif result.rebuilt_sha256:
        print(f"    sha256 {result.sha256} (published and rebuilt)")
    if result.rebuilt_filename and result.rebuilt_filename != result.filename:
        print(f"    rebuilt file: {shown(result.rebuilt_filename)}")
    if kept is not None:
        print(f"    kept: {shown(str(kept))} (its buildinfo record beside it)")
    recipe = result.recipe
    if recipe is not None:
        print("    recipe:")
        for line in _recipe_lines(recipe):
            print(f"      {shown(line)}")
        if recipe.fitted:
            print("    fitted (chosen by trying values against the published file, not read):")
        for fitted in recipe.fitted:
            tries = "1 try" if fitted.tries == 1 else f"{fitted.tries} tries"
            print(
                f"      {fitted.field} = {shown(fitted.value)}  ({tries} against "
                f"{shown(fitted.against)}: {shown(fitted.reason)})"
            )
    if result.log_tail:
        print("    build log (last lines):")
        for line in result.log_tail.splitlines()[-15:]:
            print(f"      {shown(line)}")
