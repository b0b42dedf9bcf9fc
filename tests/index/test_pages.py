"""Reading project pages of the simple API: the PEP 691 JSON form and the PEP 503 HTML form."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from reprobuild.index import IndexFile, IndexPageError, parse_html_page, parse_json_page

PAGE = "https://index.example/simple/demo/"


def test_json_page_gives_every_field() -> None:
    doc = {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "../../files/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": "AB" * 32},
                "size": 1234,
                "upload-time": "2020-06-26T22:45:12.426374Z",
                "requires-python": ">=3.8",
                "yanked": False,
            },
            {
                "filename": "demo-1.0.tar.gz",
                "url": "https://files.example/demo-1.0.tar.gz",
                "hashes": {},
                "yanked": "broken",
            },
        ],
    }
    wheel, sdist = parse_json_page(json.dumps(doc), url=PAGE)
    assert wheel == IndexFile(
        filename="demo-1.0-py3-none-any.whl",
        url="https://index.example/files/demo-1.0-py3-none-any.whl",
        sha256="ab" * 32,
        size=1234,
        upload_time=datetime(2020, 6, 26, 22, 45, 12, 426374, tzinfo=UTC),
        requires_python=">=3.8",
        yanked=False,
    )
    assert sdist.sha256 is None
    assert sdist.yanked  # a reason string means yanked
    assert sdist.upload_time is None


@pytest.mark.parametrize("text", ["not json", "[]", '{"files": 3}'])
def test_json_page_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(IndexPageError) as info:
        parse_json_page(text, url=PAGE)
    assert info.value.path == PAGE


def test_json_entries_without_name_or_url_are_skipped() -> None:
    doc = {"files": [{"filename": "a.whl"}, "junk", {"url": "x"}]}
    assert parse_json_page(json.dumps(doc), url=PAGE) == ()


def test_html_page_reads_digests_yanking_and_requires_python() -> None:
    html = """<!DOCTYPE html><html><body>
    <a href="../../files/demo-1.0-py3-none-any.whl#sha256=CDCD">demo-1.0-py3-none-any.whl</a>
    <a href="demo-1.0.tar.gz#md5=00" data-requires-python="&gt;=3.8" data-yanked="">x</a>
    </body></html>"""
    wheel, sdist = parse_html_page(html, url=PAGE)
    assert wheel.url == "https://index.example/files/demo-1.0-py3-none-any.whl"
    assert wheel.sha256 == "cdcd"
    assert not wheel.yanked
    assert sdist.filename == "demo-1.0.tar.gz"
    assert sdist.sha256 is None  # only sha256 is trusted
    assert sdist.requires_python == ">=3.8"
    assert sdist.yanked


def test_html_page_honours_a_base_element() -> None:
    html = '<html><head><base href="https://mirror.example/pkgs/"></head>' + (
        '<a href="demo-1.0.tar.gz#sha256=ee">demo-1.0.tar.gz</a></html>'
    )
    (only,) = parse_html_page(html, url=PAGE)
    assert only.url == "https://mirror.example/pkgs/demo-1.0.tar.gz"
