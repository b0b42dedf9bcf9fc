"""Benchmark ``reprobuild graph``: a cold build, a run with nothing changed, early cutoff, a
second machine with a warm remote cache, Dask against the process pool, a worker killed, and the
scale-out the graph's shape allows.

One command, from the repository root::

    python benchmarks/graph.py

The graph: a workspace of seven projects made from ``tests/fixtures/workspace`` (``ws-base`` is
the others' build backend, a build plugin of the workspace's own; the others build with it and,
some, with each other's wheels installed), with a bundle of their wheels; and, with
``--releases FILE`` (default ``benchmarks/graph_releases.txt`` when it exists), releases from
the index with their build-requirement closure built from source. Every run uses one fixed
cut-off for the build requirements (``--exclude-newer``, from the release file's header or
``--exclude-newer``), so that every run resolves the same pins.

Measured in one run, each a whole ``reprobuild graph`` process timed from start to exit:

1. *cold*: an empty cache folder, ``--jobs 2``;
2. *nothing changed*: the same again (goal: 0 builds, under 2 s);
3. *test-only edit* and *docs-only edit* of ``ws-base`` (the root of the workspace: every
   other project builds with its wheel): builds done against the steps that rebuilding
   everything would run (conda-forge's way: every node, every time);
4. *second machine*: a fresh cache folder with a remote cache (a real nginx with WebDAV, started
   here) that a first fresh cache folder filled: 0 builds;
5. *executors*: the process pool (``--jobs 2``) and a Dask ``LocalCluster`` of 2 workers
   (``--dask local --jobs 2``), each ``--no-cache`` (every step built), ``--runs`` times each by
   turns, medians and minimums; every run's outputs must be the cold run's, byte for byte;
6. *worker killed*: the graph on a Dask LocalCluster, one worker killed with SIGKILL while a
   step runs; the graph must finish with the cold run's outputs;
7. *scale-out on paper*: from the cold run's per-step times and the graph's shape, the total
   work W, the critical path C, and the time on P workers, between max(W/P, C) and W/P + C
   (Brent's bound), for P = 10, 100, 1000.

The Markdown goes to stdout and, under ``## graph``, into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from _common import (
    DOCS,
    REPO,
    describe_machine,
    log,
    recorded_command,
    reprobuild_command,
    reprobuild_version,
    source_revision,
    today,
    write_section,
)

HEADING = "## graph"
WORKSPACE = REPO / "tests" / "fixtures" / "workspace"
RELEASES = REPO / "benchmarks" / "graph_releases.txt"
CUTOFF = "2026-11-01T00:00:00+00:00"

#: The projects added to the fixture's three: name -> workspace projects it builds with.
EXTRA_PROJECTS = {
    "ws-lib": ("ws-base",),
    "ws-cli": ("ws-base", "ws-mid"),
    "ws-docs": ("ws-base",),
    "ws-app": ("ws-base", "ws-top", "ws-cli"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    seconds: float
    code: int
    report: Mapping[str, object]
    stderr: str

    @property
    def nodes(self) -> list[dict[str, object]]:
        nodes = self.report.get("nodes", [])
        return list(nodes) if isinstance(nodes, list) else []

    @property
    def builds(self) -> int:
        value = self.report.get("builds", -1)
        return int(value) if isinstance(value, int) else -1

    def outputs(self) -> dict[str, list[tuple[str, str]]]:
        out = {}
        for node in self.nodes:
            files = node.get("outputs", [])
            assert isinstance(files, list)
            out[str(node["id"])] = sorted((str(f["name"]), str(f["sha256"])) for f in files)
        return out

    def counts(self) -> dict[str, int]:
        counts = self.report.get("counts", {})
        return dict(counts) if isinstance(counts, dict) else {}


def make_workspace(folder: Path) -> Path:
    """The fixture's three projects and :data:`EXTRA_PROJECTS`, each built by ``ws-base``."""
    shutil.copytree(WORKSPACE, folder)
    for name, needs in EXTRA_PROJECTS.items():
        module = name.replace("-", "_")
        project = folder / name
        (project / module).mkdir(parents=True)
        requires = ", ".join(f'"{n}"' for n in needs)
        (project / "pyproject.toml").write_text(
            f'[build-system]\nrequires = [{requires}]\nbuild-backend = "ws_base"\n\n'
            f'[project]\nname = "{name}"\nversion = "1.0"\n'
            'description = "A project built by the workspace\'s own backend"\n'
            'requires-python = ">=3.8"\n',
            encoding="utf-8",
        )
        (project / module / "__init__.py").write_text(
            f'"""{name}: a module of the workspace."""\n\nVALUE = "{name}"\n', encoding="utf-8"
        )
    return folder


def read_releases(path: Path) -> tuple[list[str], str | None]:
    """The releases of a file (one ``NAME==VERSION`` a line, ``#`` comments), and the cut-off
    its header names in a line ``# exclude-newer: DATE``, if any."""
    releases, cutoff = [], None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.lower().startswith("# exclude-newer:"):
            cutoff = line.split(":", 1)[1].strip()
        line = line.split("#", 1)[0].strip()
        if line:
            releases.append(line)
    return releases, cutoff


def graph(
    args: Sequence[str], *, cache: Path, env: Mapping[str, str], timeout: float = 3600
) -> Run:
    """One ``reprobuild graph`` process, timed, its JSON report parsed."""
    cmd = [*reprobuild_command(), "graph", *args, "--cache-dir", str(cache), "--format", "json"]
    log("$ " + " ".join(cmd))
    start = time.monotonic()
    proc = subprocess.run(
        cmd, check=False, capture_output=True, text=True, env=dict(env), timeout=timeout
    )
    seconds = time.monotonic() - start
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except ValueError:
        report = {}
    log(f"  {seconds:.2f} s, exit {proc.returncode}, builds {report.get('builds')}")
    if proc.returncode not in (0, 1) or not report:
        log(proc.stderr[-4000:])
    return Run(seconds=seconds, code=proc.returncode, report=report, stderr=proc.stderr)


def critical_path(nodes: Sequence[Mapping[str, object]]) -> tuple[float, float, int]:
    """The total work (the sum of the steps' seconds), the critical path (the longest chain,
    weighted by seconds), and the number of steps on that chain."""
    finish: dict[str, tuple[float, int]] = {}
    total = 0.0
    for node in nodes:  # in build order
        seconds = float(node.get("seconds", 0.0))  # type: ignore[arg-type]
        total += seconds
        deps = node.get("deps", [])
        assert isinstance(deps, list)
        before = max((finish[str(d)] for d in deps if str(d) in finish), default=(0.0, 0))
        finish[str(node["id"])] = (before[0] + seconds, before[1] + 1)
    longest = max(finish.values(), default=(0.0, 0))
    return total, longest[0], longest[1]


def longest_chain(nodes: Sequence[Mapping[str, object]]) -> int:
    """The number of steps on the longest chain of steps that each need the one before."""
    level: dict[str, int] = {}
    for node in nodes:  # in build order
        deps = node.get("deps", [])
        assert isinstance(deps, list)
        level[str(node["id"])] = 1 + max((level.get(str(d), 0) for d in deps), default=0)
    return max(level.values(), default=0)


def kill_a_worker(
    workspace: Path, cache: Path
) -> tuple[bool, dict[str, list[tuple[str, str]]], float, str]:
    """The workspace's graph on a Dask LocalCluster of 2 workers, one of them killed with
    SIGKILL a moment after the first step starts; whether it finished with no failure, its
    outputs, its time, and which worker was killed."""
    import signal
    import threading

    from reprobuild.executors import DaskExecutor
    from reprobuild.frontend import default_sandbox
    from reprobuild.graph import (
        GraphOptions,
        plan_workspace,
        run_graph,
    )
    from reprobuild.graph.plan import workspace_members

    plan = plan_workspace(workspace_members(workspace), bundle=True)
    options = GraphOptions(
        cache_dir=cache,
        exclude_newer=datetime.fromisoformat(CUTOFF),
        sandbox=default_sandbox(),
    )
    executor = DaskExecutor(workers=2)
    killed: list[int] = []

    def progress(line: str) -> None:
        if not killed and line.endswith(": building"):
            pid = executor.worker_pids()[0]
            killed.append(pid)
            threading.Timer(0.5, lambda: os.kill(pid, signal.SIGKILL)).start()

    start = time.monotonic()
    try:
        report = run_graph(plan, options, executor, progress=progress)
    finally:
        executor.close()
    seconds = time.monotonic() - start
    outputs = {n.id: sorted(n.outputs.items()) for n in report.nodes}
    note = "one of 2 workers killed" if killed else "no worker was killed: no step started"
    return report.failed == 0 and bool(killed), outputs, seconds, note


def stats(values: Sequence[float]) -> str:
    if not values:
        return "n/a"
    return f"{statistics.median(values):.1f} / {min(values):.1f} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--releases", type=Path, default=RELEASES if RELEASES.exists() else None)
    parser.add_argument("--no-releases", action="store_true", help="the workspace alone")
    parser.add_argument("--runs", type=int, default=2, help="runs per executor (default: 2)")
    parser.add_argument("--exclude-newer", default=None)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.cache.nginx import running_nginx

    releases: list[str] = []
    cutoff = args.exclude_newer or CUTOFF
    if args.releases and not args.no_releases:
        releases, header_cutoff = read_releases(args.releases)
        cutoff = args.exclude_newer or header_cutoff or CUTOFF
    env = {**os.environ}
    for name in ("http_proxy", "HTTP_PROXY"):
        env.pop(name, None)
    env["no_proxy"] = "127.0.0.1,localhost"
    machine = describe_machine()
    cmd = reprobuild_command()
    version = reprobuild_version(cmd)
    revision = source_revision()
    with tempfile.TemporaryDirectory(prefix="reprobuild-graph-bench-") as scratch:
        work = Path(scratch)
        workspace = make_workspace(work / "workspace")
        base = [str(workspace), "--bundle", "--exclude-newer", cutoff]
        base += [a for r in releases for a in ("--release", r)]
        log(
            f"graph: {len(releases)} releases and a workspace of {3 + len(EXTRA_PROJECTS)} projects"
        )
        cold = graph([*base, "--jobs", "2"], cache=work / "cache", env=env)
        steps = len(cold.nodes)
        again = graph([*base, "--jobs", "2"], cache=work / "cache", env=env)
        test_file = workspace / "ws-base" / "tests" / "test_base.py"
        test_file.write_text(test_file.read_text() + "\n# a test-only edit\n")
        tests_only = graph([*base, "--jobs", "2"], cache=work / "cache", env=env)
        docs = workspace / "ws-base" / "docs" / "index.md"
        docs.write_text(docs.read_text() + "\nA docs-only edit.\n")
        docs_only = graph([*base, "--jobs", "2"], cache=work / "cache", env=env)
        with running_nginx(work / "nginx") as server:
            remote = ["--remote-cache", server.url]
            filler = graph([*base, "--jobs", "2", *remote], cache=work / "machine-1", env=env)
            second = graph([*base, "--jobs", "2", *remote], cache=work / "machine-2", env=env)
        pool: list[Run] = []
        dask: list[Run] = []
        for i in range(args.runs):
            order = ["pool", "dask"] if i % 2 == 0 else ["dask", "pool"]
            for side in order:
                extra = ["--jobs", "2"] if side == "pool" else ["--dask", "local", "--jobs", "2"]
                run = graph([*base, *extra, "--no-cache"], cache=work / "cache", env=env)
                (pool if side == "pool" else dask).append(run)
        killed_ok, killed_outputs, killed_seconds, killed_note = kill_a_worker(
            workspace, work / "killed"
        )
    reference = docs_only.outputs()
    same = {
        "nothing changed": again.outputs() == cold.outputs(),
        "second machine": second.outputs() == docs_only.outputs(),
        "pool runs": all(r.outputs() == reference for r in pool),
        "Dask runs": all(r.outputs() == reference for r in dask),
    }
    if killed_outputs:
        same["worker killed"] = {k: [tuple(x) for x in v] for k, v in killed_outputs.items()} == {
            k: v for k, v in reference.items() if k in killed_outputs
        }
    total, path, chain = critical_path(cold.nodes)
    depth = longest_chain(cold.nodes)
    scale = "\n".join(
        f"| {p} | {max(total / p, path):.1f} s | {total / p + path:.1f} s |"
        for p in (10, 100, 1000)
    )
    seeds = cold.report.get("seeds", [])
    seed_text = (
        ", ".join(
            f"{x.get('name')} {x.get('version')} ({x.get('reason')})"
            for x in seeds
            if isinstance(x, dict)
        )
        if isinstance(seeds, list) and seeds
        else "none"
    )
    failed = [str(n["id"]) for n in cold.nodes if n.get("status") == "failed"]
    pool_s = [r.seconds for r in pool]
    dask_s = [r.seconds for r in dask]
    overhead = (
        f"{statistics.median(dask_s) / statistics.median(pool_s):.2f}x"
        if pool_s and dask_s
        else "n/a"
    )
    release_line = (
        f"the build-requirement closure of {len(releases)} releases from "
        f"`{args.releases.relative_to(REPO)}` (its rule is in its header), built from source, "
        "and "
        if releases
        else ""
    )
    table = "\n".join(
        f"| {label} | {run.seconds:.2f} s | {run.builds} | {render_counts(run)}{extra} |"
        for label, run, extra in (
            ("cold, empty cache, `--jobs 2`", cold, ""),
            ("nothing changed", again, ""),
            ("test-only edit of `ws-base`", tests_only, "; " + render_cutoff(tests_only)),
            ("docs-only edit of `ws-base`", docs_only, "; " + render_cutoff(docs_only)),
            ("first machine, empty cache, remote cache empty", filler, ""),
            ("second machine, empty cache, remote cache warm", second, ""),
        )
    )
    killed_text = (
        "the graph finished with no failure and the same outputs"
        if killed_ok and same.get("worker killed")
        else "**it did not finish with the same outputs**"
    )
    same_text = ", ".join(f"{k}: {'yes' if v else '**no**'}" for k, v in same.items())
    command = recorded_command("graph.py", argv if argv is not None else sys.argv[1:])
    versions = f"Python {sys.version.split()[0]}, reprobuild {version}{revision}"
    quick = "met" if again.builds == 0 and again.seconds < 2 else "not met"
    section = f"""{HEADING}

`reprobuild graph` on {release_line}a workspace of {3 + len(EXTRA_PROJECTS)} projects made from
`tests/fixtures/workspace` (`ws-base` is the build backend of all the others; some build with
each other's wheels installed) with a bundle of their wheels: **{steps} steps**, the longest
chain {depth} steps. Build requirements as of {cutoff}. Each figure is one whole `reprobuild graph`
process, timed from start to exit, in the sandbox ({describe_sandbox_of(cold)}).

Command: `{command}` — run on {today()} ({machine}; {versions}).

| run | time | builds | what the steps did |
|---|---:|---:|---|
{table}

- Nothing changed: {again.builds} builds in {again.seconds:.2f} s (goal: 0 builds, under 2 s:
  **{quick}**).
- Early cutoff: a test-only edit of the workspace's backend ran {tests_only.builds} builds and a
  docs-only edit {docs_only.builds}, where rebuilding everything (every node, every time, as a
  migration that bumps build numbers does) runs {steps}.
- Second machine: {second.builds} builds (goal 0: **{"met" if second.builds == 0 else "not met"}**).
- Seeds (published wheels used where a build requirement cannot be built from source in the
  graph): {seed_text}. Failed steps: {", ".join(failed) or "none"}.

Executors, every step built (`--no-cache`), {args.runs} run(s) each by turns, median / min:

| executor | time | outputs the same as the cold run's |
|---|---:|---|
| process pool, `--jobs 2` | {stats(pool_s)} | {"yes" if same["pool runs"] else "**no**"} |
| Dask LocalCluster, 2 workers | {stats(dask_s)} | {"yes" if same["Dask runs"] else "**no**"} |

Dask's overhead: {overhead} the pool's median. A worker killed (SIGKILL) while a step of the
workspace's graph ran: {killed_text} ({killed_seconds:.1f} s; {killed_note}).

Scale-out on paper, from the cold run's per-step times: the total work W = {total:.1f} s, the
critical path (the chain of steps whose times add up to the most) C = {path:.1f} s, over {chain}
steps. On P workers the graph takes at least
max(W/P, C) and, with a greedy scheduler, at most W/P + C:

| workers | at least | at most |
|---:|---:|---:|
{scale}

All outputs the same as the runs they are compared with: {same_text}.
"""
    sys.stdout.write(section)
    write_section(DOCS, HEADING, section)
    log(f"wrote the '{HEADING}' section of {DOCS.relative_to(REPO)}")
    return 0


def describe_sandbox_of(run: Run) -> str:
    for line in run.stderr.splitlines():
        if "steps, sandbox " in line:
            return line.split("steps, sandbox ", 1)[1].split(", build requirements")[0]
    return "unknown"


def render_counts(run: Run) -> str:
    return ", ".join(f"{v} {k}" for k, v in sorted(run.counts().items())) or "error"


def render_cutoff(run: Run) -> str:
    cut = [f"{n['id']} cut off {n['cut_off']}" for n in run.nodes if n.get("cut_off")]
    return "; ".join(cut) or "nothing cut off"


if __name__ == "__main__":
    sys.exit(main())
