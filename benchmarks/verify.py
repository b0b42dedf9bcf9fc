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
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    write_section,
)

PACKAGES = REPO / "benchmarks" / "verify_packages.txt"
GOAL_SHARE = 0.90
GOAL_WARM_SECONDS = 5.0


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


def verify(cmd: list[str], release: str, cache: Path, env: dict[str, str], *extra: str) -> Run:
    argv = [*cmd, "verify", release, "--format", "json", "--cache-dir", str(cache)]
    argv += ["--db", str(cache / "results.sqlite3"), *extra]
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    crashed = "internal error" in proc.stderr or proc.returncode not in (0, 1, 2, 3)
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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=Path, default=PACKAGES, help="the releases to verify")
    parser.add_argument("--cache-dir", help="where the venv and the caches are kept")
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)

    root = cache_root(args.cache_dir) / "verify"
    root.mkdir(parents=True, exist_ok=True)
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
