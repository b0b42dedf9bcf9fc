"""The HTML page of ``reprobuild verify``: self-contained, escaped, one section per artifact."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from reprobuild.rebuild import ArtifactResult, Verdict, Verification
from reprobuild.rebuild.page import verification_page
from reprobuild.strategy import Evidence, Recipe
from tests.present.trees import TREES


class _Checker(HTMLParser):
    """Collects every attribute that could reach outside the page, and the ids."""

    def __init__(self) -> None:
        super().__init__()
        self.outside: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("src", "href") and value and not value.startswith("#"):
                self.outside.append(value)
            if key == "href" and value:
                self.hrefs.append(value[1:])
            if key == "id" and value:
                self.ids.append(value)
        if tag in ("script", "link", "img", "iframe"):
            self.outside.append(tag)


def _results() -> list[Verification]:
    recipe = Recipe(
        requirements=("hatchling==1.21.0",),
        override="recipes/demo.toml",
        evidence=(Evidence(field="requirements", value="hatchling==1.21.0", reason="WHEEL"),),
    )
    tree = next(iter(TREES.values()))
    different = ArtifactResult(
        filename="demo-1.0-py3-none-any.whl",
        verdict=Verdict.DIFFERENT,
        sha256="a" * 64,
        rebuilt_sha256="b" * 64,
        recipe=recipe,
        cause="content differs in <script>alert(1)</script>",
        difference=tree,
    )
    failed = ArtifactResult(
        filename="other-2.0-py3-none-any.whl",
        verdict=Verdict.BUILD_FAILED,
        sha256="c" * 64,
        cause="the backend failed",
        log_tail="Traceback ...\nerror: <boom>",
    )
    return [
        Verification(name="demo", version="1.0", sdist="demo-1.0.tar.gz", results=(different,)),
        Verification(name="other", version="2.0", sdist="other-2.0.tar.gz", results=(failed,)),
    ]


def test_the_page_is_self_contained_and_escapes_what_it_shows() -> None:
    page = verification_page(_results())
    checker = _Checker()
    checker.feed(page)
    assert checker.outside == []
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "error: &lt;boom&gt;" in page
    assert set(checker.hrefs) <= set(checker.ids)  # every row links to its section
    assert "1 different, 1 build-failed" in page
    assert "override used: recipes/demo.toml" in page
    assert re.search(r'<span class="verdict different">different</span>', page)
    assert "<title>reprobuild verify: 2 releases</title>" in page


def test_one_release_is_named_in_the_title() -> None:
    page = verification_page(_results()[1:])
    assert "<title>reprobuild verify: other 2.0</title>" in page
    assert 'aria-label="legend"' not in page  # no difference tree: no category legend
