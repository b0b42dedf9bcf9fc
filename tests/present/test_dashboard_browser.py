"""The results dashboard in a real browser: headless Chromium (Debian's ``chromium``), driven
by Playwright, on the site of a few hundred real results and on one of 10,000.

Each test opens the site from the file system, fails on any console error, page error or
dialog (a name that ran as script would open one), and on any request for something other
than a file of the site. Screenshots are kept in ``$REPROBUILD_TEST_ARTIFACTS/dashboard``, or
in the test's temporary folder when that is not set. Where there is no Chromium (or no
Playwright) the tests are skipped, except in CI, whose machine must run them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reprobuild.cli._dashboard import write_site
from reprobuild.cli.main import main
from reprobuild.present.dashboard import PAGE_ROWS, render_dashboard
from tests.present.dashboarddata import HOSTILE, benchmark_db, synthetic_attempts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request

#: What Chromium needs to run headless as root in a container, and not to reach anything.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: The loose bound on the first paint of the 10,000-result index (a test, not a benchmark:
#: the goal is under a second).
FIRST_PAINT_BOUND_MS = 3000


def _chromium() -> str:
    reason = ""
    path = os.environ.get("REPROBUILD_CHROMIUM") or shutil.which("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the machine
        reason = "Playwright is not installed (pip install -e '.[test]')"
    if path is None:  # pragma: no cover - depends on the machine
        reason = "no chromium on PATH (Debian's chromium package)"
    if reason:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the dashboard's browser tests: {reason}")
        pytest.skip(reason)
    assert path is not None
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get("REPROBUILD_TEST_ARTIFACTS")
    folder = Path(named) / "dashboard" if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboard")
    db = benchmark_db(folder / "results.sqlite3")
    assert main(["results", "--db", str(db), "--format", "html", "-o", str(folder / "site")]) == 0
    return folder / "site"


@dataclass(slots=True, kw_only=True)
class Watched:
    """A page, and what went wrong on it."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert self.problems == []


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    seen = Watched(page=page)

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            seen.problems.append(f"console {message.type}: {message.text}")

    def dialog(opened: Dialog) -> None:
        seen.problems.append(f"dialog: {opened.message}")
        opened.dismiss()

    def request(made: Request) -> None:
        if not made.url.startswith(("file://", "data:")):
            seen.problems.append(f"request: {made.url}")

    page.on("console", console)
    page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
    page.on("dialog", dialog)
    page.on("request", request)
    try:
        yield seen
    finally:
        page.close()
    seen.check()


def _open(watched: Watched, index: Path) -> Page:
    page = watched.page
    page.goto(index.as_uri())
    page.wait_for_selector("body.ready")
    return page


def _rows(page: Page) -> list[str]:
    return page.locator("#release-rows tr").all_inner_texts()


def test_the_index_renders(watched: Watched, site: Path, artefacts: Path) -> None:
    page = _open(watched, site / "index.html")
    assert page.inner_text("h1") == "reprobuild results"
    assert "files reproducible bit for bit" in page.inner_text("header")
    assert page.locator("svg.plot").count() == 3
    assert page.locator("svg.plot rect").count() > 20
    assert len(_rows(page)) == 69 and page.inner_text("#shown") == "69 releases"
    assert page.inner_text("#page") == "page 1 of 1" and page.is_disabled("#next")
    page.screenshot(path=artefacts / "index.png", full_page=True)


def test_a_filter_narrows_the_table(watched: Watched, site: Path, artefacts: Path) -> None:
    page = _open(watched, site / "index.html")
    page.fill("#q", "flit")
    flit = _rows(page)
    assert 0 < len(flit) < 69 and all("flit" in row for row in flit)
    assert page.inner_text("#shown") == f"{len(flit)} of 69 releases"
    page.screenshot(path=artefacts / "search-flit.png", full_page=True)
    page.fill("#q", "")
    page.select_option("#f-verdict", "different")
    different = page.locator("#release-rows .mark").all_inner_texts()
    assert different and set(different) == {"different"}
    page.select_option("#f-backend", "setuptools")
    page.select_option("#f-year", "2020")
    assert [row.split("\t")[0] for row in _rows(page)] == ["jedi 0.18.0"]
    page.screenshot(path=artefacts / "filter-different-setuptools-2020.png", full_page=True)
    page.select_option("#f-verdict", "")
    page.select_option("#f-backend", "")
    page.select_option("#f-year", "")
    page.select_option("#sort", "verdict")
    marks = page.locator("#release-rows .mark").all_inner_texts()
    assert marks[0] != "reproducible" and marks[-1] == "reproducible"


def test_a_release_page_opens(watched: Watched, site: Path, artefacts: Path) -> None:
    page = _open(watched, site / "index.html")
    page.fill("#q", "ipython")
    page.click("text=ipython 7.16.1")
    page.wait_for_url("**/releases/ipython-7.16.1.html")
    assert page.inner_text("h1") == "ipython 7.16.1"
    assert page.locator("section.attempt").count() == 3
    tree = page.locator("details.more", has_text="difference tree").first
    assert not tree.locator(".sbs").first.is_visible()
    page.click("text=expand all")
    assert tree.locator(".sbs").first.is_visible()  # the side-by-side diff of RECORD
    page.screenshot(path=artefacts / "release-ipython.png", full_page=True)
    page.click("text=all releases")
    page.wait_for_url("**/index.html")
    page.wait_for_selector("body.ready")


def test_a_hostile_name_is_shown_as_text(watched: Watched, site: Path, artefacts: Path) -> None:
    page = _open(watched, site / "index.html")
    page.fill("#q", "onerror")
    (row,) = _rows(page)
    assert row.startswith(f"{HOSTILE} 1.0</script>")
    page.locator("#release-rows a").click()
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == f"{HOSTILE} 1.0</script>"
    assert page.locator("img").count() == 0
    page.screenshot(path=artefacts / "release-hostile.png", full_page=True)


def test_ten_thousand_results_paint_fast(watched: Watched, tmp_path: Path, artefacts: Path) -> None:
    site = tmp_path / "site"
    write_site(site, render_dashboard(synthetic_attempts(10_000)), {})
    page = _open(watched, site / "index.html")
    timings = page.evaluate(
        """() => {
          const paint = performance.getEntriesByName('first-contentful-paint')[0];
          const nav = performance.getEntriesByType('navigation')[0];
          return [paint ? paint.startTime : -1, nav.domContentLoadedEventEnd];
        }"""
    )
    first_paint, loaded = float(timings[0]), float(timings[1])
    line = (
        f"10,000 results: first contentful paint {first_paint:.0f} ms, "
        f"DOMContentLoaded {loaded:.0f} ms"
    )
    (artefacts / "timings.txt").write_text(line + "\n")
    print(line)
    assert 0 < first_paint < FIRST_PAINT_BOUND_MS and loaded < FIRST_PAINT_BOUND_MS
    assert len(_rows(page)) == PAGE_ROWS
    assert page.inner_text("#page") == "page 1 of 100"
    page.click("#next")
    assert page.inner_text("#page") == "page 2 of 100"
    page.fill("#q", "jedi 0.18.0.post99")
    assert [row.split("\t")[0] for row in _rows(page)] == ["jedi 0.18.0.post99"]
    page.screenshot(path=artefacts / "index-10000.png")
