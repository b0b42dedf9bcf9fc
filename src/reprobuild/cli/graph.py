"""``reprobuild graph``: build a workspace's projects in dependency order, with early cutoff on
a content-addressed cache, shared over a remote cache, on a process pool or a Dask cluster."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reprobuild.cli._attest import add_attest_arguments, attest_graph, signing_key_of
from reprobuild.cli._cache import add_cache_dir_argument, cache_dir_of
from reprobuild.cli._output import HelpFormatter, Subparsers, job_count, print_json, say
from reprobuild.cli._remote import add_remote_arguments, remote_headers
from reprobuild.cli._sandbox import add_sandbox_arguments, describe_sandbox, sandbox_of
from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild._types import JSONValue
    from reprobuild.graph.schedule import GraphReport

__all__ = ["register", "run"]

_DESCRIPTION = """\
Build every project of a workspace, each step once: a project's sdist from its source tree,
its wheel from that sdist, and (with --bundle) one archive of all the wheels. A project whose
[build-system] requires names another project of the workspace (a shared build plugin) is
built with that project's wheel installed, so it comes after it.

Each step is an action whose key is a hash of everything its output can depend on: its
inputs' digests, the build settings, the interpreter, the platform, the sandbox, reprobuild's
canonical-form version, and what its build environment holds. A step found in the cache is not
run. A step whose inputs changed is rebuilt; when its output comes out the same, byte for byte,
the keys of the steps after it do not change and they are found in the cache (early cutoff):
a docs-only or test-only edit rebuilds one sdist and one wheel, not the whole chain.

With --release NAME==VERSION (or --releases FILE), releases from the index are built too, each
wheel from its sdist, together with their build-requirement closure: every backend, plugin and
their dependencies that the release's [build-system] requires resolve to (as of
--exclude-newer) is built from its own sdist, and each build environment is installed only from
the wheels the graph built, pinned by their digests. A package needed to build itself (a cycle),
one without an sdist, or one whose sdist does not build is a seed: its published wheel, checked
against the index's sha256, is used instead, and the report lists every seed and why.

Results live in the cache folder's store; --remote-cache URL shares them with a Bazel-style
HTTP cache (GET/PUT/HEAD of /ac/KEY and /cas/SHA256; nginx with WebDAV, bazel-remote). Every
entry, local or remote, is checked against its digests before it is used. Build requirements
are resolved as the index was at --exclude-newer (default: the start of today, UTC), and that
resolution is cached too.
"""

_EPILOG = """\
examples:
  reprobuild graph packages/*                     # every project under packages/
  reprobuild graph . --dry-run                    # what would be built, and which input changed
  reprobuild graph packages/* --jobs 2 --bundle   # two builds at once, and a bundle of the wheels
  reprobuild graph packages/* --remote-cache http://cache.internal:8080/reprobuild
  reprobuild graph packages/* --dask local        # on a Dask LocalCluster of --jobs workers
  reprobuild graph packages/* --scheduler tcp://10.0.0.5:8786   # on an existing Dask cluster
  reprobuild graph --release idna==3.10 --release six==1.17.0 --exclude-newer 2026-11-01
  reprobuild graph packages/* --releases releases.txt --jobs 2  # a workspace and releases

A FOLDER is a project (pyproject.toml or setup.py), or a uv workspace root (its
[tool.uv.workspace] members), or a folder whose subfolders are projects. A --releases FILE
holds one NAME==VERSION a line; # starts a comment.

exit codes: 0 every step built or found, 1 a step failed (the others went on where they could),
2 bad input or usage, 3 environment failure.
"""


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "graph",
        help="build a workspace in dependency order, with a shared cache and early cutoff",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("folders", nargs="*", type=Path, metavar="FOLDER")
    parser.add_argument(
        "--release",
        action="append",
        default=[],
        metavar="NAME==VERSION",
        help="also build this release from its sdist on the index, with its build-requirement "
        "closure from source (may repeat)",
    )
    parser.add_argument(
        "--releases",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="also build the releases FILE lists, one NAME==VERSION a line (may repeat)",
    )
    parser.add_argument("--bundle", action="store_true", help="also bundle every wheel in one tar")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="build nothing: say which steps the cache holds, and which would be built and why",
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="build every step, found in the cache or not"
    )
    parser.add_argument(
        "--jobs", type=job_count, default=1, metavar="N", help="builds at once (default: 1)"
    )
    parser.add_argument(
        "--dask",
        choices=("local",),
        help="run the steps on a Dask LocalCluster of --jobs workers started here",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the steps on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT); "
        "its workers must see the same cache folder (a shared file system) or use the remote "
        "cache",
    )
    add_remote_arguments(
        parser, use="also look for results in (and write them to) this Bazel-style HTTP cache"
    )
    parser.add_argument(
        "--exclude-newer",
        type=_date,
        metavar="DATE",
        help="resolve build requirements as the index was on DATE (default: today, 00:00 UTC)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "html"),
        default="text",
        help="how to print the report (html: one self-contained page)",
    )
    add_cache_dir_argument(parser, holds="the store, the action cache and build environments are")
    add_sandbox_arguments(parser)
    # --attest: a signed provenance of each step's output (reprobuild.attest)
    add_attest_arguments(parser, what="each output of a step built or found in the cache")
    parser.set_defaults(run=run)


def _date(text: str) -> object:
    from datetime import UTC, datetime

    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from reprobuild.executors import DaskExecutor, Executor, InProcessPool, SerialExecutor
    from reprobuild.graph import GraphOptions, RemoteConfig, plan_workspace, run_graph
    from reprobuild.graph.closure import load_release_list, parse_release, plan_releases
    from reprobuild.graph.plan import Plan, workspace_members

    if args.dask and args.scheduler:
        raise UsageError("give --dask local or --scheduler ADDRESS, not both")
    if args.remote_read_only and not args.remote_cache:
        raise UsageError("--remote-read-only needs --remote-cache URL")
    releases = [*args.release, *(r for path in args.releases for r in load_release_list(path))]
    for text in releases:
        parse_release(text)  # a bad one is refused before anything is fetched
    if not args.folders and not releases:
        raise UsageError(
            "nothing to build", hint="give a FOLDER, --release NAME==VERSION or --releases FILE"
        )
    if args.bundle and not args.folders:
        raise UsageError("--bundle bundles a workspace's wheels: give a FOLDER")
    folders = [member for folder in args.folders for member in workspace_members(folder)]
    if args.folders and not folders:
        raise UsageError("no project in the folders given", path=str(args.folders[0]))
    plan = plan_workspace(folders, bundle=args.bundle)
    if args.attest is not None and args.dry_run:
        raise UsageError("--dry-run builds nothing: there is nothing to attest")
    signing_key = signing_key_of(args)  # read, and its folder checked, before any build
    sandbox = sandbox_of(args)
    now = datetime.now(UTC)
    cutoff = args.exclude_newer or now.replace(hour=0, minute=0, second=0, microsecond=0)
    remote = (
        RemoteConfig(
            url=args.remote_cache, headers=remote_headers(args), read_only=args.remote_read_only
        )
        if args.remote_cache
        else None
    )
    if releases:
        closure = plan_releases(
            releases,
            exclude_newer=cutoff,
            cache_dir=cache_dir_of(args),
            remote=remote,
            progress=say,
        )
        plan = Plan(nodes=(*plan.nodes, *closure.nodes))
    options = GraphOptions(
        cache_dir=cache_dir_of(args),
        exclude_newer=cutoff,
        sandbox=sandbox,
        remote=remote,
        use_cache=not args.no_cache,
        dry_run=args.dry_run,
    )
    print(
        f"reprobuild: {len(plan.nodes)} steps, sandbox "
        f"{describe_sandbox(sandbox.to_json())}, build requirements as of {cutoff.isoformat()}",
        file=sys.stderr,
    )
    executor: Executor
    if args.dask or args.scheduler:
        executor = DaskExecutor(args.scheduler, workers=args.jobs)
    elif args.jobs > 1:
        executor = InProcessPool(args.jobs)
    else:
        executor = SerialExecutor()
    try:
        report = run_graph(
            plan,
            options,
            executor,
            progress=say,
        )
    finally:
        executor.close()
    if signing_key is not None:
        attest_graph(args.attest, report, signing_key)
    if args.format in ("json", "html"):
        from reprobuild import __version__

        doc: dict[str, JSONValue] = {
            "schema_version": 1,
            "tool": "reprobuild",
            "tool_version": __version__,
            **report.to_json(),
        }
        if args.format == "html":
            from reprobuild.present.graphpage import render_graph_html

            sys.stdout.write(render_graph_html(doc))
            return 1 if report.failed else 0
        print_json(doc)
    else:
        sys.stdout.write(render_text(report))
    return 1 if report.failed else 0


_SAID = {
    "cache-hit": "cache hit",
    "remote-hit": "cache hit (remote: a claim, checked against its digests)",
    "built": "built",
    "rebuilt-unchanged": "rebuilt, unchanged",
    "rebuilt-changed": "rebuilt, changed",
    "failed": "FAILED",
    "skipped": "skipped",
    "would-build": "would be built",
    "waits": "waits",
    "seeded": "seeded (the published wheel)",
}


def render_text(report: GraphReport) -> str:
    """One line per step, then the totals."""
    width = max((len(n.id) for n in report.nodes), default=4)
    lines = []
    for node in report.nodes:
        text = f"{node.id:<{width}}  {_SAID[node.status]}"
        if node.cut_off:
            text += f" (cutting off {node.cut_off} dependent{'s' if node.cut_off != 1 else ''})"
        if node.changed and node.status != "cache-hit":
            text += f"; changed: {', '.join(node.changed)}"
        if node.because:
            text += f" ({node.because} {'failed' if node.status == 'skipped' else 'first'})"
        if node.reason:
            text += f": {node.reason}"
        elif node.error:
            text += f": {node.error.splitlines()[0]}"
        if node.seconds and node.status not in ("cache-hit", "would-build", "waits"):
            text += f"  {node.seconds:.1f} s"
        lines.append(text)
    counts = ", ".join(f"{v} {_SAID[k]}" for k, v in sorted(report.counts().items()))
    lines.append("")
    lines.append(
        f"{len(report.nodes)} steps: {counts}. Builds: {report.builds}, where rebuilding "
        f"everything would run {len(report.nodes)}. {report.seconds:.1f} s on {report.executor}."
    )
    if any(n.kind in ("release", "seed") for n in report.nodes):
        seeds = report.seeds
        lines.append(
            f"Wheels of releases and their build requirements: {report.from_source} from "
            f"source, {len(seeds)} seed{'' if len(seeds) == 1 else 's'}"
            + (": " + ", ".join(n.id.rpartition(":")[0] for n in seeds) if seeds else "")
            + "."
        )
    return "\n".join(lines) + "\n"
