"""A project's page of the simple repository API, read into :class:`IndexFile` values.

Two forms are read: the PEP 691 JSON form (``application/vnd.pypi.simple.v1+json``), asked for
first, and the PEP 503 HTML form (anchors whose fragment carries the digest, PEP 592 yanking,
PEP 503 ``data-requires-python``), which file indexes and older servers give. Parsing is pure:
the page's text and its address in, values out.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser

from reprobuild.errors import ReprobuildError

__all__ = ["JSON_TYPE", "IndexFile", "IndexPageError", "parse_html_page", "parse_json_page"]

#: The media type of the PEP 691 JSON form, version 1.
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class IndexPageError(ReprobuildError):
    """A project page that is not what the simple API describes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexFile:
    """One distribution file of a project, as its index lists it.

    ``sha256`` is ``None`` when the index gives no sha256 digest (such a file cannot be verified
    and is refused by :meth:`IndexClient.download`). ``upload_time`` is known only from the JSON
    form (API version 1.1 and later).
    """

    filename: str
    url: str
    sha256: str | None
    size: int | None = None
    upload_time: datetime | None = None
    requires_python: str | None = None
    yanked: bool = False


def parse_json_page(text: str | bytes, *, url: str) -> tuple[IndexFile, ...]:
    """The files of a PEP 691 JSON project page fetched from ``url``."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise IndexPageError(
            f"the index answered with JSON that does not parse: {exc}", path=url
        ) from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        raise IndexPageError("the index's JSON page has no list of files", path=url)
    out = []
    for entry in files:
        if not isinstance(entry, dict):
            continue
        filename, href = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(href, str):
            continue
        hashes = entry.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        size = entry.get("size")
        yanked = entry.get("yanked", False)
        requires = entry.get("requires-python")
        out.append(
            IndexFile(
                filename=filename,
                url=urllib.parse.urljoin(url, href),
                sha256=sha256.lower() if isinstance(sha256, str) else None,
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                upload_time=_time(entry.get("upload-time")),
                requires_python=requires if isinstance(requires, str) and requires else None,
                yanked=yanked is not False and yanked is not None,
            )
        )
    return tuple(out)


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None


def parse_html_page(text: str, *, url: str) -> tuple[IndexFile, ...]:
    """The files of a PEP 503 HTML project page fetched from ``url``."""
    parser = _Anchors()
    parser.feed(text)
    parser.close()
    base = urllib.parse.urljoin(url, parser.base) if parser.base else url
    out = []
    for attrs, label in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        absolute = urllib.parse.urljoin(base, href)
        address, _, fragment = absolute.partition("#")
        algorithm, _, value = fragment.partition("=")
        filename = urllib.parse.unquote(address.rsplit("/", 1)[-1]) or label
        out.append(
            IndexFile(
                filename=filename,
                url=address,
                sha256=value.lower() if algorithm == "sha256" and value else None,
                requires_python=attrs.get("data-requires-python") or None,
                yanked="data-yanked" in attrs,
            )
        )
    return tuple(out)
