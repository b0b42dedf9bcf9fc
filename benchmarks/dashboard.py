"""Benchmark the results dashboard (``reprobuild results --format html``) with 10,000 results.

One command, from the repository root::

    python benchmarks/dashboard.py [--results N] [--runs N]

It makes N results shaped like the verify benchmark's real verdicts (one per release, the
real releases with made-up versions; ``tests/present/dashboarddata.py``), renders the site and
writes it as the command does, then opens its index in headless Chromium (Debian's
``chromium``, installed with apt-get when missing, driven by Playwright) ``--runs`` times, each
in a fresh page, and reads the first contentful paint and DOMContentLoaded from the browser's
own performance timeline. The medians, with the render and write times and the index's size,
go to stdout and, under the ``## results dashboard`` heading, into ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import (
    DOCS,
    REPO,
    apt_install,
    describe_machine,
    log,
    recorded_command,
    reprobuild_command,
    reprobuild_version,
    source_revision,
    today,
    write_section,
)

HEADING = "## results dashboard"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMELINE = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  return [paint ? paint.startTime : -1, nav.domContentLoadedEventEnd];
}"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from playwright.sync_api import sync_playwright
    from tests.present.dashboarddata import synthetic_attempts

    from reprobuild.cli._dashboard import write_site
    from reprobuild.present.dashboard import render_dashboard

    if shutil.which("chromium") is None:
        apt_install(["chromium"])
    chromium = shutil.which("chromium")
    assert chromium is not None
    machine = describe_machine()
    attempts = list(synthetic_attempts(args.results))
    started = time.perf_counter()
    site = render_dashboard(attempts)
    rendered = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="reprobuild-dashboard-bench-") as scratch:
        folder = Path(scratch) / "site"
        started = time.perf_counter()
        write_site(folder, site, {})
        written = time.perf_counter() - started
        index = folder / "index.html"
        size = index.stat().st_size
        paints: list[float] = []
        loads: list[float] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
            for run in range(args.runs):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(index.as_uri())
                page.wait_for_selector("body.ready")
                paint, loaded = page.evaluate(TIMELINE)
                paints.append(float(paint))
                loads.append(float(loaded))
                log(f"run {run + 1}: first paint {paint:.0f} ms, DOMContentLoaded {loaded:.0f} ms")
                page.close()
            version = browser.version
            browser.close()
    cmd = reprobuild_command()
    rows = [
        ("results", f"{args.results:,}", ""),
        ("release pages", f"{len(site) - 1:,}", ""),
        ("render (`render_dashboard`)", f"{rendered:.2f} s", ""),
        ("write (beside the folder, then renamed)", f"{written:.2f} s", ""),
        ("index.html", f"{size / 1e6:.2f} MB", ""),
        (
            "first contentful paint, median",
            f"**{statistics.median(paints):.0f} ms**",
            "< 1 s: met" if statistics.median(paints) < 1000 else "< 1 s: missed",
        ),
        ("DOMContentLoaded, median", f"{statistics.median(loads):.0f} ms", ""),
    ]
    section = "\n".join(
        [
            HEADING,
            "",
            f"`{recorded_command('dashboard.py', sys.argv[1:] if argv is None else argv)}` — "
            f"{today()}, reprobuild {reprobuild_version(cmd)}{source_revision()}; "
            f"{machine}; Chromium {version}, headless, {args.runs} runs in fresh pages.",
            "",
            "The site of the given number of results, each its own release, shaped like the "
            "verify benchmark's real verdicts; the times come from the browser's performance "
            "timeline, the page opened from the file system.",
            "",
            "| measure | result | goal |",
            "|---|---:|---|",
            *(f"| {a} | {b} | {c} |" for a, b, c in rows),
            "",
        ]
    )
    print(section)
    write_section(DOCS, HEADING, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
