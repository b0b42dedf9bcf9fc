"""Benchmark ``reprobuild verify`` on a sample of popular pure-Python releases.

One command, from the repository root::

    python benchmarks/verify.py

It installs reprobuild from this checkout into a venv of its own (as ``pipx install`` would),
then verifies every release of ``benchmarks/verify_packages.txt`` as its own process, the way a
user would type it:

1. **cold**: with empty caches (reprobuild's and uv's: downloads, resolutions and build
   environments all start empty), with recipe overrides, as shipped;
2. **warm**: again, on the caches the cold pass filled;
3. **inference alone**: the releases whose warm result used a recipe override, again with
   ``--no-overrides`` (for the others the two are the same run);
4. **throughput**: the whole file as one batch, ``verify -r FILE --jobs 1`` and ``--jobs 2``,
   warm.

It reports the verdict of each release with inference alone and with overrides, the named
cause of every miss, the share rebuilt bit for bit, crashes (a traceback, or an exit status
other than 0 to 3), cold and warm median times, and the batch throughput. The Markdown goes to
stdout and, under the ``## verify`` heading, into ``docs/benchmarks.md``.

Progress goes to stderr. ``--only NAME`` (repeatable) runs a subset, without writing the docs.

``--sample`` verifies the population sample instead, ``benchmarks/verify_sample.txt``: the
releases a fixed rule picks from the ranks of the package list the environment provides (see
``benchmarks/corpus.py``), split into a dev and a test half by a hash of the name. Each release
is verified once, cold, with inference alone (``--no-overrides``), ``--jobs N`` at a time; the
report gives per half the share of pure wheels rebuilt bit for bit, ``equivalent``,
``different`` by named cause, ``build-failed`` by cause, ``not-verifiable``, releases without a
verdict, crashes and the median seconds per release, headlines the test half and judges the
goals on it; it goes under the ``## verify: the population`` heading. ``--half`` and
``--limit N`` (the first N releases of each half verified) run a part, which the report says;
``--no-docs`` prints the section without writing it.
``--refresh-sample`` makes the sample again from the package list (``--package-list PATH``, or
the environment variable ``REPROBUILD_PACKAGE_LIST``) and the index, whose pages are kept in
the cache folder.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import corpus
from _common import (
    DOCS,
    REPO,
    cache_root,
    describe_machine,
    installed_reprobuild,
    log,
    recorded_command,
    reprobuild_version,
    scrub,
    source_revision,
    today,
    without_paths,
    write_section,
)

from reprobuild.strategy import is_pure

PACKAGES = REPO / "benchmarks" / "verify_packages.txt"
SAMPLE = REPO / "benchmarks" / "verify_sample.txt"
GOAL_SHARE = 0.90
GOAL_WARM_SECONDS = 5.0
POPULATION_HEADING = "## verify: the population"


@dataclass
class Run:
    """One ``reprobuild verify NAME==VERSION`` process."""

    release: str
    seconds: float
    returncode: int
    crashed: bool
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def verdicts(self) -> list[str]:
        return [a["verdict"] for a in self.artifacts] or ["error"]

    @property
    def reproducible(self) -> bool:
        return bool(self.artifacts) and all(a["verdict"] == "reproducible" for a in self.artifacts)

    @property
    def override_used(self) -> bool:
        return any(a.get("override_used") for a in self.artifacts)

    def causes(self) -> list[str]:
        if not self.artifacts:
            return [self.error or "no result"]
        return [a["cause"] for a in self.artifacts if a["verdict"] != "reproducible"]


def read_releases(path: Path) -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


def verify(
    cmd: list[str],
    release: str,
    cache: Path,
    env: dict[str, str],
    *extra: str,
    db: Path | None = None,
    timeout: float | None = None,
) -> Run:
    argv = [*cmd, "verify", release, "--format", "json", "--cache-dir", str(cache)]
    argv += ["--db", str(db or cache / "results.sqlite3"), *extra]
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, env=env, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        seconds = time.perf_counter() - started
        log(f"  {release}: timed out ({seconds:.0f} s)")
        return Run(release, seconds, -1, False, [], f"timed out after {timeout:.0f} s")
    seconds = time.perf_counter() - started
    crashed = (
        "internal error" in proc.stderr
        or "Traceback (most recent call last)" in proc.stderr
        or proc.returncode not in (0, 1, 2, 3)
    )
    artifacts: list[dict[str, Any]] = []
    try:
        artifacts = json.loads(proc.stdout)["artifacts"] if proc.stdout.strip() else []
    except (ValueError, KeyError):
        crashed = True
    error = next((ln for ln in proc.stderr.splitlines() if ln.startswith("error:")), "")
    run = Run(release, seconds, proc.returncode, crashed, artifacts, scrub(error))
    log(f"  {release}: {', '.join(run.verdicts)} ({seconds:.1f} s, exit {proc.returncode})")
    return run


def batch(cmd: list[str], path: Path, cache: Path, env: dict[str, str], jobs: int) -> float:
    argv = [*cmd, "verify", "-r", str(path), "--jobs", str(jobs), "--format", "json"]
    argv += ["--cache-dir", str(cache), "--db", str(cache / "results.sqlite3")]
    log(f"batch, --jobs {jobs}")
    started = time.perf_counter()
    subprocess.run(argv, capture_output=True, env=env, check=False)
    return time.perf_counter() - started


def backend(run: Run) -> str:
    for artifact in run.artifacts:
        requirements = (artifact.get("recipe") or {}).get("requirements") or []
        if requirements:
            return str(requirements[0])
    return "?"


def uploaded(run: Run) -> str:
    for artifact in run.artifacts:
        cutoff = (artifact.get("recipe") or {}).get("exclude_newer")
        if cutoff:
            return str(cutoff)[:7]
    return "?"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- the population sample ---------------------------------------------------------------------

#: Causes that name no cause: a miss with one of these, or none, is not explained.
UNNAMED = ("differences normalization does not remove", "no result")

#: Known parts of verify's causes, each with the short name the report counts it under.
_CAUSES = (
    (
        re.compile(r"^the rebuild is named .*: its tags differ"),
        "the rebuild's name and tags differ",
    ),
    (re.compile(r"^built on Windows"), "built on Windows"),
    (
        re.compile(r"^the published wheel holds files the sdist does not produce"),
        "the published wheel holds files the sdist does not produce",
    ),
    (
        re.compile(r"^the rebuild holds files the published wheel does not"),
        "the rebuild holds files the published wheel does not",
    ),
    (
        re.compile(r"^METADATA lists .* in another order"),
        "METADATA fields in a set's order (the publisher's hash seed)",
    ),
    (
        re.compile(r"^\d+ values in a set's order: too many orders"),
        "too many orders to search the hash seed for",
    ),
    (
        re.compile(r"^content differs only in \.dist-info files"),
        "content differs only in .dist-info files",
    ),
    (re.compile(r"^content differs in installed files"), "content differs in installed files"),
)
_VARIABLE = re.compile(r"\S*[/=\d]\S*")


def cause_names(verdict: str, cause: str, categories: Sequence[str] = ()) -> list[str]:
    """The short names of ``cause``, the one-sentence cause of a verdict: one per part (parts
    are separated by ``; ``). An ``equivalent`` verdict is named by its differing categories;
    a part that no known pattern matches is named by its text before the first colon, with
    words that hold a digit, ``/`` or ``=`` (versions, paths, file names) left out."""
    if verdict == "equivalent" and categories:
        return [f"differs in {c}" for c in categories]
    names: list[str] = []
    for part in (p.strip() for p in cause.split("; ")):
        if not part:
            continue
        if part.startswith("identical after normalization"):
            continue
        name = next((label for pattern, label in _CAUSES if pattern.search(part)), None)
        if name is None:
            head = part.split(": ", 1)[0].split(" (", 1)[0]
            name = " ".join(_VARIABLE.sub("…", head).split())[:100]
        if name not in names:
            names.append(name)
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What verify said of one pure wheel of the sample (``verdict`` is ``no verdict`` when the
    release's verify gave no result for it)."""

    release: str
    half: corpus.Half
    old: bool
    verdict: str
    cause: str
    names: tuple[str, ...]
    fitted: tuple[str, ...] = ()  #: the fields fitted by trying, and the steps after the build

    @property
    def named(self) -> bool:
        """True when the wheel is reproducible, or has a verdict and a cause that names one."""
        if self.verdict == "reproducible":
            return True
        return (
            self.verdict != "no verdict"
            and bool(self.names)
            and not any(self.cause.strip().startswith(u) for u in UNNAMED)
        )


def outcomes(entry: corpus.Entry, run: Run) -> list[Outcome]:
    """The outcome of each pure wheel of ``entry`` in ``run``; compiled wheels, judged
    ``not-verifiable`` by their tags alone, are left out. When the run gave no result, each
    of the pure wheels the index lists has ``no verdict``, with the run's error as its cause."""

    def outcome(
        verdict: str, cause: str, names: Sequence[str], fitted: Sequence[str] = ()
    ) -> Outcome:
        return Outcome(
            release=entry.release,
            half=entry.half,
            old=entry.old,
            verdict=verdict,
            cause=cause,
            names=tuple(names),
            fitted=tuple(fitted),
        )

    pure = [a for a in run.artifacts if is_pure(str(a.get("filename", "")))]
    if not run.artifacts:
        cause = "crashed: " + (run.error or f"exit {run.returncode}") if run.crashed else ""
        cause = cause or run.error or f"no result (exit {run.returncode})"
        name = "crashed" if run.crashed else " ".join(_VARIABLE.sub("…", cause).split())[:100]
        return [outcome("no verdict", cause, [name])] * max(1, entry.pure_wheels)
    return [
        outcome(
            str(a["verdict"]),
            str(a.get("cause") or ""),
            cause_names(str(a["verdict"]), str(a.get("cause") or ""), a.get("categories") or ()),
            fitted_by(a),
        )
        for a in pure
    ]


def fitted_by(artifact: dict[str, Any]) -> list[str]:
    """What verify fitted by trying against the published file (the recipe's ``fitted``
    fields), and the steps run after the build (``with_steps``), as the artifact's JSON says;
    empty for a verdict earned by reading alone."""
    recipe = artifact.get("recipe") or {}
    fields = [str(f.get("field")) for f in recipe.get("fitted") or () if isinstance(f, dict)]
    return fields + [f"step: {step}" for step in artifact.get("with_steps") or ()]


VERDICTS = ("reproducible", "equivalent", "different", "build-failed", "not-verifiable")


@dataclass(frozen=True, slots=True, kw_only=True)
class HalfReport:
    """The measures of one half of the sample."""

    releases: int
    latest: int
    old: int
    wheels: int
    counts: dict[str, int]  #: verdict (and ``no verdict``) -> pure wheels
    causes: dict[tuple[str, str], int]  #: (verdict, cause name) -> pure wheels
    named: int
    fitted: int  #: reproducible wheels with a fitted value or a step after the build
    crashes: tuple[str, ...]
    median_seconds: float
    compiled_beside: int

    def share(self, verdict: str) -> float:
        return self.counts.get(verdict, 0) / self.wheels if self.wheels else 0.0


def half_report(
    entries: Sequence[corpus.Entry], runs: dict[str, Run], found: Sequence[Outcome]
) -> HalfReport:
    """The measures of ``entries`` (one half) from their runs and their wheels' outcomes."""
    counts: dict[str, int] = {}
    causes: dict[tuple[str, str], int] = {}
    for o in found:
        counts[o.verdict] = counts.get(o.verdict, 0) + 1
        if o.verdict != "reproducible":
            for name in o.names:
                causes[(o.verdict, name)] = causes.get((o.verdict, name), 0) + 1
    seconds = [runs[e.release].seconds for e in entries]
    return HalfReport(
        releases=len(entries),
        latest=len([e for e in entries if not e.old]),
        old=len([e for e in entries if e.old]),
        wheels=len(found),
        counts=counts,
        causes=causes,
        named=len([o for o in found if o.named]),
        fitted=len([o for o in found if o.verdict == "reproducible" and o.fitted]),
        crashes=tuple(e.release for e in entries if runs[e.release].crashed),
        median_seconds=statistics.median(seconds) if seconds else 0.0,
        compiled_beside=len(
            [
                a
                for e in entries
                for a in runs[e.release].artifacts
                if not is_pure(str(a.get("filename", "")))
            ]
        ),
    )


def _share(count: int, total: int) -> str:
    return f"{count}/{total} ({100 * count / total:.0f}%)" if total else "0/0"


def render_population(
    reports: dict[corpus.Half, HalfReport],
    *,
    sample: corpus.Corpus,
    header: str,
    partial: str,
    jobs: int,
) -> str:
    """The ``## verify: the population`` section: the test half first, then dev."""
    halves = [h for h in (corpus.Half.TEST, corpus.Half.DEV) if h in reports]

    def row(label: str, cells: Sequence[str], goal: str = "") -> str:
        return f"| {label} | " + " | ".join(cells) + f" | {goal} |"

    def met(ok: bool, goal: str) -> str:
        return f"{goal}: " + ("met" if ok else "**not met**")

    test = reports.get(corpus.Half.TEST)
    rows = ["| measure | " + " | ".join(f"{h.value} half" for h in halves) + " | goal (test) |"]
    rows.append("|---|" + "---:|" * len(halves) + "---|")
    rows.append(
        row(
            "releases verified (latest + old)",
            [f"{reports[h].releases} ({reports[h].latest} + {reports[h].old})" for h in halves],
        )
    )
    rows.append(row("pure wheels", [str(reports[h].wheels) for h in halves]))
    for verdict in (*VERDICTS, "no verdict"):
        cells = [_share(reports[h].counts.get(verdict, 0), reports[h].wheels) for h in halves]
        goal = ""
        if verdict == "reproducible":
            label = "bit for bit, inference alone"
            cells = [
                f"**{c}**" if h is corpus.Half.TEST else c
                for h, c in zip(halves, cells, strict=True)
            ]
            if test is not None:
                goal = met(test.share("reproducible") >= GOAL_SHARE, f"≥{100 * GOAL_SHARE:.0f}%")
        else:
            label = f"`{verdict}`" if verdict != "no verdict" else "no verdict (error, time-out)"
        rows.append(row(label, cells, goal))
        if verdict == "reproducible":
            rows.append(
                row(
                    "of which with a value fitted by trying, or a step after the build",
                    [str(reports[h].fitted) for h in halves],
                )
            )
    rows.append(
        row(
            "a verdict, and a specific named cause for every miss",
            [f"{reports[h].named}/{reports[h].wheels}" for h in halves],
            met(test.named == test.wheels, "all") if test else "",
        )
    )
    rows.append(
        row(
            "crashes (releases)",
            [
                str(len(reports[h].crashes))
                + (f" ({', '.join(reports[h].crashes)})" if reports[h].crashes else "")
                for h in halves
            ],
            met(not test.crashes, "0") if test else "",
        )
    )
    rows.append(
        row("median seconds per release", [f"{reports[h].median_seconds:.1f}" for h in halves])
    )
    rows.append(
        row(
            "compiled wheels beside (not-verifiable by their tags; not counted above)",
            [str(reports[h].compiled_beside) for h in halves],
        )
    )
    keys = sorted(
        {k for h in halves for k in reports[h].causes},
        key=lambda k: (
            (*VERDICTS, "no verdict").index(k[0]),
            -sum(reports[h].causes.get(k, 0) for h in halves),
            k[1],
        ),
    )
    causes = ["| verdict | named cause | " + " | ".join(h.value for h in halves) + " |"]
    causes.append("|---|---|" + "---:|" * len(halves))
    for verdict, name in keys:
        counts = [str(reports[h].causes.get((verdict, name), 0)) for h in halves]
        causes.append(f"| {verdict} | {cell(name)} | " + " | ".join(counts) + " |")
    n_latest, n_old = len(sample.select(old=False)), len(sample.select(old=True))
    n_dev, n_test = (
        len(sample.select(half=corpus.Half.DEV)),
        len(sample.select(half=corpus.Half.TEST)),
    )
    rule = "\n".join("> " + line for line in _wrap(corpus.rule_text(sample.cutoff)))
    return f"""{POPULATION_HEADING}

{header}

{partial}The population sample, `benchmarks/verify_sample.txt`, holds {n_latest} latest releases
and {n_old} old ones ({n_dev} in the dev half, {n_test} in the test half), picked by a fixed rule
from the ranks of the package list the environment provides and from the index pages alone:

{rule}

Rules are developed on the dev half; the test half is the headline, and the goals are judged on
it. Each release is verified once as its own `reprobuild verify NAME==VERSION --no-overrides`
process (inference alone), cold (empty caches, uv's included), {jobs} at a time. The unit is
the pure wheel: a release's compiled wheels are `not-verifiable` by their tags and counted
apart; a release whose verify gave no result counts each of its pure wheels as without a
verdict. `reproducible` counts every wheel verify judged so; the row below it says how many of
those needed a value fitted by trying against the published file, or a step after the build.
The hand-picked list of the `## verify` section stays the regression set.

{chr(10).join(rows)}

Causes of the misses, in pure wheels (a wheel whose cause has several parts is counted under
each):

{chr(10).join(causes)}
"""


def _wrap(text: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=96)


def refresh_sample(args: argparse.Namespace, root: Path) -> corpus.Corpus:
    """Make the sample again from the package list and the index, and write it."""
    from reprobuild.errors import ReprobuildError
    from reprobuild.index import IndexClient

    path = corpus.package_list_path(args.package_list, os.environ)
    try:
        ranks = corpus.parse_ranks(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SystemExit(f"error: {path.name}: {exc}") from None
    ranked = corpus.ranked_between(ranks, *corpus.RANKS)
    log(f"{len(ranked)} projects ranked {corpus.RANKS[0]} to {corpus.RANKS[1]}")
    try:
        client = IndexClient(cache_dir=root / "index")
        pages = corpus.load_pages(
            client, [name for _, name in ranked], root / "index-pages", jobs=4, progress=log
        )
    except ReprobuildError as exc:
        hint = f"\nhint: {exc.hint}" if exc.hint else ""
        raise SystemExit(f"error: {scrub(str(exc))}{hint}") from None

    sample = corpus.build_corpus(ranked, pages)
    args.sample_file.write_text(corpus.render_corpus(sample), encoding="utf-8")
    log(f"wrote {len(sample.entries)} releases to {args.sample_file.name}")
    return sample


def run_sample(args: argparse.Namespace, argv: list[str], root: Path) -> int:
    """Verify the population sample and write its section."""
    sample = corpus.parse_corpus(args.sample_file.read_text(encoding="utf-8"))
    halves = [corpus.Half(args.half)] if args.half != "both" else list(corpus.Half)
    chosen: list[corpus.Entry] = []
    for half in halves:
        entries = sample.select(half=half)
        chosen += entries[: args.limit] if args.limit else entries
    cmd = installed_reprobuild(root)
    cache = root / "sample-cache"
    shutil.rmtree(cache, ignore_errors=True)  # cold: every release starts from the same caches
    cache.mkdir()
    env = {**os.environ, "UV_CACHE_DIR": str(cache / "uv"), "NO_COLOR": "1"}
    env.pop("REPROBUILD_CACHE_DIR", None)
    header_line = (
        f"`{recorded_command('verify.py', without_paths(argv))}` — {today()}, reprobuild "
        f"{reprobuild_version(cmd)}{source_revision()}; {describe_machine()}."
    )
    log(f"population sample: {len(chosen)} releases, --jobs {args.jobs}")

    def one(numbered: tuple[int, corpus.Entry]) -> Run:
        number, entry = numbered
        db = cache / f"results-{number}.sqlite3"  # one each: no writer waits for another
        return verify(cmd, entry.release, cache, env, "--no-overrides", db=db, timeout=args.timeout)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        done = pool.map(one, enumerate(chosen))
        runs = dict(zip((e.release for e in chosen), done, strict=True))
    found = {e.release: outcomes(e, runs[e.release]) for e in chosen}
    (root / "sample-results.json").write_text(
        json.dumps(
            [
                {
                    "release": e.release,
                    "half": e.half.value,
                    "old": e.old,
                    "seconds": round(runs[e.release].seconds, 2),
                    "exit": runs[e.release].returncode,
                    "crashed": runs[e.release].crashed,
                    "error": runs[e.release].error,
                    "artifacts": [
                        {
                            **{k: a.get(k) for k in ("filename", "verdict", "cause")},
                            **{k: a.get(k) for k in ("verdict_text", "categories")},
                            "fitted": fitted_by(a),
                        }
                        for a in runs[e.release].artifacts
                    ],
                }
                for e in chosen
            ],
            indent=1,
        ),
        encoding="utf-8",
    )
    reports = {
        half: half_report(
            [e for e in chosen if e.half is half],
            runs,
            [o for e in chosen if e.half is half for o in found[e.release]],
        )
        for half in halves
    }
    total = len(sample.entries)
    partial = ""
    if len(chosen) < total:
        part = f"the first {args.limit} releases of" if args.limit else "all of"
        which = " and ".join(f"the {h.value} half" for h in halves)
        partial = (
            f"**Partial: {len(chosen)} of {total} releases** ({part} {which}): these numbers "
            "are not the whole sample's.\n\n"
        )
    section = render_population(
        reports, sample=sample, header=header_line, partial=partial, jobs=args.jobs
    )
    print(section)
    if not args.no_docs:
        write_section(DOCS, POPULATION_HEADING, section)
        log(f"wrote the population section of {DOCS.relative_to(REPO)}")
    log(f"per-release results: {scrub(str(root / 'sample-results.json'))}")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=Path, default=PACKAGES, help="the releases to verify")
    parser.add_argument("--cache-dir", help="where the venv and the caches are kept")
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    population = parser.add_argument_group("the population sample")
    population.add_argument(
        "--sample", action="store_true", help="verify the population sample instead"
    )
    population.add_argument(
        "--refresh-sample",
        action="store_true",
        help="make the sample again from the package list and the index",
    )
    population.add_argument(
        "--package-list",
        metavar="PATH",
        help=f"the package list with the ranks (default: ${corpus.PACKAGE_LIST_ENV})",
    )
    population.add_argument("--sample-file", type=Path, default=SAMPLE, help=argparse.SUPPRESS)
    population.add_argument("--half", choices=["dev", "test", "both"], default="both")
    population.add_argument("--jobs", type=int, default=2, help="releases verified at a time")
    population.add_argument(
        "--limit", type=int, default=0, metavar="N", help="the first N releases of each half"
    )
    population.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds a release may take (1800)"
    )
    population.add_argument(
        "--no-docs", action="store_true", help="print the section without writing the docs"
    )
    args = parser.parse_args(argv)

    root = cache_root(args.cache_dir) / "verify"
    root.mkdir(parents=True, exist_ok=True)
    if args.refresh_sample:
        refresh_sample(args, root)
    if args.sample:
        return run_sample(args, argv, root)
    if args.refresh_sample:
        return 0
    cmd = installed_reprobuild(root)
    releases = read_releases(args.packages)
    if args.only:
        wanted = {name.lower() for name in args.only}
        releases = [r for r in releases if r.split("==")[0].lower() in wanted]
    cache = root / "cache"
    shutil.rmtree(cache, ignore_errors=True)  # the cold pass starts from nothing
    cache.mkdir()
    env = {**os.environ, "UV_CACHE_DIR": str(cache / "uv"), "NO_COLOR": "1"}
    env.pop("REPROBUILD_CACHE_DIR", None)
    machine = describe_machine()

    log(f"cold pass: {len(releases)} releases")
    cold = {r: verify(cmd, r, cache, env) for r in releases}
    log("warm pass")
    warm = {r: verify(cmd, r, cache, env) for r in releases}
    log("inference alone, for the releases that used a recipe override")
    alone = {
        r: (verify(cmd, r, cache, env, "--no-overrides") if warm[r].override_used else warm[r])
        for r in releases
    }
    listing = root / "releases.txt"
    listing.write_text("".join(f"{r}\n" for r in releases))
    serial = batch(cmd, listing, cache, env, 1)
    parallel = batch(cmd, listing, cache, env, 2)

    n = len(releases)
    alone_ok = sum(alone[r].reproducible for r in releases)
    with_ok = sum(warm[r].reproducible for r in releases)
    named = sum(
        all(c.strip() for c in warm[r].causes()) and warm[r].artifacts != [] for r in releases
    )
    crashes = [r for r in releases if cold[r].crashed or warm[r].crashed or alone[r].crashed]
    cold_median = statistics.median(cold[r].seconds for r in releases)
    warm_median = statistics.median(warm[r].seconds for r in releases)
    share = alone_ok / n

    rows = [
        "| release | backend | uploaded | inference alone | with overrides | cause of a miss "
        "| cold s | warm s |",
        "|---|---|---|---|---|---|---:|---:|",
    ]
    for r in releases:
        w, a = warm[r], alone[r]
        causes = "; ".join(dict.fromkeys(a.causes() + w.causes()))
        rows.append(
            f"| {r} | {backend(w)} | {uploaded(w)} | {', '.join(a.verdicts)} | "
            f"{', '.join(w.verdicts)}{' (override)' if w.override_used else ''} | "
            f"{cell(causes)} | {cold[r].seconds:.1f} | {w.seconds:.1f} |"
        )
    verdict_counts: dict[str, int] = {}
    for r in releases:
        for v in alone[r].verdicts:
            verdict_counts[v] = verdict_counts.get(v, 0) + 1
    counts = ", ".join(f"{k} {v}" for k, v in sorted(verdict_counts.items()))
    command = recorded_command("verify.py", argv)

    def met(ok: bool, goal: str) -> str:
        return f"{goal}: " + ("met" if ok else "**not met**")

    summary = [
        (
            "bit for bit, inference alone",
            f"**{alone_ok}/{n} ({100 * share:.0f}%)**",
            met(share >= GOAL_SHARE, f"≥{100 * GOAL_SHARE:.0f}%"),
        ),
        ("bit for bit, with overrides", f"{with_ok}/{n} ({100 * with_ok / n:.0f}%)", ""),
        ("a verdict, and a named cause for every miss", f"{named}/{n}", met(named == n, "all")),
        (
            "crashes",
            f"{len(crashes)}" + (f" ({', '.join(crashes)})" if crashes else ""),
            met(not crashes, "0"),
        ),
        ("median time per release, cold", f"{cold_median:.1f} s", ""),
        (
            "median time per release, warm",
            f"{warm_median:.1f} s",
            met(warm_median < GOAL_WARM_SECONDS, f"<{GOAL_WARM_SECONDS:.0f} s"),
        ),
        (
            "whole list as one batch, warm, `--jobs 1`",
            f"{serial:.0f} s ({60 * n / serial:.1f} releases/min)",
            "",
        ),
        (
            "whole list as one batch, warm, `--jobs 2`",
            f"{parallel:.0f} s ({60 * n / parallel:.1f} releases/min, {serial / parallel:.2f}x)",
            "",
        ),
    ]
    table = "\n".join(
        ["| measure | result | goal |", "|---|---:|---|"]
        + [f"| {a} | {b} | {c} |" for a, b, c in summary]
    )
    section = f"""## verify

`{command}` — {today()}, reprobuild {reprobuild_version(cmd)}{source_revision()}; {machine}.

Every release of `benchmarks/verify_packages.txt` ({n} popular pure-Python releases, five
backends, uploaded 2018 to 2026) is verified as its own `reprobuild verify NAME==VERSION` process:
cold (empty caches, uv's included), then warm; the releases whose recipe used an override file
are verified once more with `--no-overrides` for the inference-alone column.

{table}

Verdicts with inference alone: {counts}.

{chr(10).join(rows)}
"""
    print(section)
    if not args.only:
        write_section(DOCS, "## verify", section)
        log(f"wrote the verify section of {DOCS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
