"""The results dashboard's pages: every release has one, names are escaped everywhere, the
pages load nothing, and the same attempts give the same site."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from reprobuild.present.dashboard import (
    INDEX,
    PAGE_ROWS,
    backend_of,
    release_slug,
    render_dashboard,
    safe_name,
    upload_year_of,
)
from reprobuild.rebuild.history import Attempt, list_attempts
from tests.present import htmlcheck
from tests.present.dashboarddata import HOSTILE, benchmark_db, synthetic_attempts

#: What the dashboard adds to the tags of the other pages: the index's controls, its script
#: and plots, links between the pages.
DASHBOARD_TAGS = htmlcheck.ALLOWED | {
    "script", "a", "h3", "select", "option", "figure", "figcaption", "link",
    "svg", "rect", "text", "title", "line",
}  # fmt: skip


class DashboardPage(htmlcheck.StrictPage):
    """:class:`htmlcheck.StrictPage`, knowing the dashboard's tags, and what its scripts hold."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in DASHBOARD_TAGS:
            self.errors.append(f"unexpected <{tag}>")
        if tag not in htmlcheck.VOID | {"link"}:
            self.stack.append(tag)

    def handle_data(self, data: str) -> None:
        if self.stack[-1:] == ["script"]:
            self.scripts.append(data)
        else:
            super().handle_data(data)


def check_page(page: str) -> DashboardPage:
    """Parse ``page`` strictly; check it loads nothing and links only inside the site."""
    parser = DashboardPage()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == []
    assert parser.doctype is not None and parser.doctype.lower() == "doctype html"
    for tag, attrs in parser.tags:
        assert tag not in {"img", "iframe", "object", "embed", "base", "form"}
        assert not {"src", "srcset", "action", "formaction", "poster", "background"} & set(attrs)
        href = attrs.get("href")
        if href is not None:
            if tag == "link":
                assert href == "data:,"
            else:
                assert re.fullmatch(r"(\.\./)?[A-Za-z0-9._+/-]+", href), href
                assert ".." not in href.removeprefix("../")
        for name, value in attrs.items():
            assert "://" not in (value or "") and "javascript:" not in (value or ""), (tag, name)
    assert "default-src 'none'" in page
    style = "".join(parser.style).lower()
    assert "url(" not in style and "@import" not in style
    return parser


@pytest.fixture(scope="module")
def attempts(tmp_path_factory: pytest.TempPathFactory) -> list[Attempt]:
    db = benchmark_db(tmp_path_factory.mktemp("dashboard") / "results.sqlite3")
    return list(list_attempts(db, details=True))


@pytest.fixture(scope="module")
def site(attempts: list[Attempt]) -> dict[str, str]:
    return render_dashboard(attempts)


def _index_rows(site: dict[str, str]) -> list[list[object]]:
    data = r'<script type="application/json" id="release-data">(.*?)</script>'
    found = re.search(data, site[INDEX])
    assert found is not None
    rows: list[list[object]] = json.loads(found.group(1))
    return rows


def test_every_release_has_a_page_and_a_row(site: dict[str, str], attempts: list[Attempt]) -> None:
    releases = {(a.name.lower(), a.version) for a in attempts}
    pages = [path for path in site if path != INDEX]
    assert len(pages) == len(releases) and all(p.startswith("releases/") for p in pages)
    rows = _index_rows(site)
    assert len(rows) == len(releases)
    assert {f"releases/{row[0]}.html" for row in rows} == set(pages)
    for path, page in site.items():
        check_page(page)
        assert page.endswith("</html>\n"), path


def test_the_index_counts_files_by_their_release_s_last_attempt(site: dict[str, str]) -> None:
    rows = {(row[1], row[2]): row for row in _index_rows(site)}
    # the benchmark: ipython 7.16.1 is different by inference alone, reproducible with its
    # override, which the later attempts used
    ipython = rows[("ipython", "7.16.1")]
    assert ipython[3] == "reproducible" and ipython[4] == "setuptools" and ipython[5] == "2020"
    assert ipython[7] == 3
    assert rows[("jedi", "0.18.0")][3] == "different"
    assert "set's order" in str(rows[("jedi", "0.18.0")][9])
    assert rows[("attrs", "23.2.0")][4] == "hatchling"
    index = site[INDEX]
    assert "files reproducible bit for bit" in index
    assert index.count('<svg class="plot"') == 3
    assert "By build backend" in index and "By upload year" in index and "Over time" in index
    # the first page of rows is in the HTML, before any script runs
    assert index.count('<tr><td><a href="releases/') == min(len(rows), PAGE_ROWS)


def test_a_release_page_shows_every_attempt_with_recipe_and_tree(site: dict[str, str]) -> None:
    page = site["releases/ipython-7.16.1.html"]
    assert "Attempts (3), newest first" in page
    assert page.count('<section class="part attempt">') == 3
    assert "recipe of ipython-7.16.1-py3-none-any.whl (override ipython.toml)" in page
    assert "WHEEL Generator: wheel 0.30.0" in page  # the evidence
    assert "difference tree of ipython-7.16.1-py3-none-any.whl" in page  # the first attempt's
    assert '<a href="../index.html">all releases</a>' in page
    assert "attestation" not in page  # none was given


def test_hostile_names_are_text_everywhere(site: dict[str, str]) -> None:
    (path,) = [p for p in site if p.startswith("releases/_img")]
    assert re.fullmatch(r"releases/[A-Za-z0-9._+-]+\.html", path)
    for page in site.values():
        assert "<img" not in page and "<script>alert" not in page
        parser = check_page(page)
        for script in parser.scripts:
            assert "</script" not in script.lower() and "<!--" not in script
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; 1.0&lt;/script&gt;" in site[path]
    rows = _index_rows(site)
    assert [HOSTILE, "1.0</script>"] in [row[1:3] for row in rows]  # the JSON reads back


def test_attestations_are_linked_only_when_given(attempts: list[Attempt]) -> None:
    wheel = "attrs-23.2.0-py3-none-any.whl"
    site = render_dashboard(attempts, attestations={wheel: "attestations/a.intoto.jsonl"})
    page = site["releases/attrs-23.2.0.html"]
    assert '<a href="../attestations/a.intoto.jsonl">attestation</a>' in page
    assert "attestation" not in site["releases/six-1.12.0.html"]


def test_the_same_attempts_give_the_same_site(attempts: list[Attempt]) -> None:
    assert render_dashboard(attempts) == render_dashboard(list(reversed(attempts)))


def test_an_empty_history_is_a_page_that_says_so() -> None:
    site = render_dashboard([])
    assert list(site) == [INDEX]
    check_page(site[INDEX])
    assert "No attempt recorded." in site[INDEX]


def test_ten_thousand_attempts_keep_the_index_small() -> None:
    site = render_dashboard(synthetic_attempts(10_000))
    assert len(site) == 10_001
    index = site[INDEX]
    assert index.count('<tr><td><a href="releases/') == PAGE_ROWS
    assert len(index.encode()) < 3_000_000


def test_file_names_are_safe_and_distinct() -> None:
    assert release_slug("attrs", "23.2.0") == "attrs-23.2.0"
    for hostile in ("../../etc/passwd", "a/b", ".hidden", "-rf", "x\0y", "é", "CON:"):
        name = release_slug(hostile, "1.0")
        assert re.fullmatch(r"[A-Za-z0-9_+][A-Za-z0-9._+-]{0,99}", name), name
        assert name != f"{hostile}-1.0" and re.search(r"-[0-9a-f]{10}$", name)
    assert release_slug("a/b", "1") != release_slug("a_b", "1")  # both kept apart
    taken = {release_slug("demo", "1.0RC1").casefold()}
    assert release_slug("demo", "1.0rc1", taken=taken) != "demo-1.0rc1"  # case-insensitive FS
    assert len(safe_name("x" * 500)) == 100


def _recipe(requirement: str, reason: str) -> dict[str, object]:
    return {
        "requirements": [requirement],
        "evidence": [{"field": "exclude_newer", "value": "2019-05-02T10:00:00", "reason": reason}],
    }


@pytest.mark.parametrize(
    ("requirement", "backend"),
    [
        ("wheel==0.33.4", "setuptools"),
        ("flit_core==3.9.0", "flit-core"),
        ("setuptools<62.2", "setuptools"),
        ("Hatchling==1.21.0", "hatchling"),
    ],
)
def test_the_backend_is_the_first_requirement(requirement: str, backend: str) -> None:
    assert backend_of(_recipe(requirement, "uploaded x")) == backend  # type: ignore[arg-type]


def test_the_upload_year_comes_only_from_an_upload_time() -> None:
    uploaded = _recipe("x==1", "uploaded 2019-05-02T10:00:00")
    local = _recipe("x==1", "no upload time (a local file): its newest member time")
    assert upload_year_of(uploaded) == "2019"  # type: ignore[arg-type]
    assert upload_year_of(local) is None  # type: ignore[arg-type]
    assert backend_of(None) is None and upload_year_of(None) is None
    assert backend_of({"requirements": []}) is None


def _attempts(lines: list[tuple[str, str, str]]) -> Iterator[Attempt]:
    base = Attempt(
        id=0, name="demo", version="1.0", filename="", verdict="", cause="", categories=(),
        sha256="", rebuilt_sha256=None, override=None, started="", seconds=1.0,
        tool_version="0.1.0",
    )  # fmt: skip
    for index, (started, filename, verdict) in enumerate(lines, start=1):
        yield replace(base, id=index, started=started, filename=filename, verdict=verdict)


def test_a_release_s_verdict_is_its_last_attempt_s_least_reproducible_file() -> None:
    site = render_dashboard(
        _attempts(
            [
                ("2026-01-01T00:00:00", "demo-1.0.tar.gz", "different"),
                ("2026-02-01T00:00:00", "", "error"),
                ("2026-03-01T00:00:00", "demo-1.0-py3-none-any.whl", "reproducible"),
                ("2026-03-01T00:00:00", "demo-1.0.tar.gz", "equivalent"),
            ]
        )
    )
    (row,) = _index_rows(site)
    assert row[3] == "equivalent" and row[6] == "1 reproducible, 1 equivalent" and row[7] == 3


def test_the_site_is_written_by_the_caller(tmp_path: Path) -> None:
    # pure: render_dashboard returns text, it writes nothing
    before = set(tmp_path.iterdir())
    render_dashboard([])
    assert set(tmp_path.iterdir()) == before
