"""The one client reprobuild reaches a package index with.

It reads a project's page of the simple repository API, asking for the PEP 691 JSON form and
taking the PEP 503 HTML form when that is what comes back, from the index pip would use (its
``index-url`` and ``extra-index-url`` settings, or the ``--index-url`` given) and merges the
files of every index. Downloads are checked against the index's sha256 and kept in a
content-addressed cache, so a file is fetched once and a cached copy is checked again on use.
Transient failures (a timeout, a reset connection, HTTP 429 and 5xx) are retried with backoff.

The client is written on the standard library's ``urllib``: the simple API is two small
documents and a download, and a third-party HTTP stack would be a dependency for that alone.
"""

from __future__ import annotations

import hashlib
import secrets
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from reprobuild import __version__
from reprobuild._fs import sha256_file
from reprobuild.errors import NetworkError, UsageError
from reprobuild.frontend.indexes import IndexConfig, load_index_config
from reprobuild.index.pages import (
    JSON_TYPE,
    IndexFile,
    IndexPageError,
    parse_html_page,
    parse_json_page,
)

__all__ = ["IndexClient", "default_index_url", "release_files"]

_ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_CHUNK = 1 << 20

Sleep = Callable[[float], None]
_T = TypeVar("_T")


def default_index_url() -> str:
    """The index pip uses when none is configured: pip's own default, read from pip."""
    try:
        from pip._internal.models.index import PyPI  # pip's default, never spelled out here
    except ImportError as exc:
        raise UsageError(
            "no package index is configured and pip, whose default reprobuild uses, is not "
            "importable",
            hint="give --index-url, or set PIP_INDEX_URL",
        ) from exc
    return str(PyPI.simple_url)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Fetched:
    body: bytes
    content_type: str
    url: str


class IndexClient:
    """Project pages and verified downloads from one or more simple-API indexes.

    ``index_urls`` are searched in order and their files merged (the first index to list a
    file name wins). By default they are pip's: ``index-url`` (or pip's default) and every
    ``extra-index-url``. ``cache_dir`` holds downloads under ``downloads/<sha256>/`` (and pip's
    answer about its configuration, see :func:`~reprobuild.frontend.indexes.load_index_config`).
    """

    def __init__(
        self,
        *,
        cache_dir: Path,
        index_urls: Sequence[str] | None = None,
        config: IndexConfig | None = None,
        retries: int = 3,
        timeout: float = 60.0,
        sleep: Sleep = time.sleep,
    ) -> None:
        config = config if config is not None else load_index_config(cache_dir)
        if index_urls:
            urls = list(index_urls)
        elif config.no_index:
            raise UsageError(
                "pip is configured with no-index: there is no package index to verify against",
                hint="give --index-url",
            )
        else:
            urls = [config.index_url or default_index_url(), *config.extra_index_urls]
        self.index_urls = tuple(u if u.endswith("/") else u + "/" for u in urls)
        self.cache_dir = Path(cache_dir)
        self.retries = retries
        self.timeout = timeout
        self._sleep = sleep
        context = ssl.create_default_context(cafile=config.cert) if config.cert else None
        handlers: list[urllib.request.BaseHandler] = []
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self._opener = urllib.request.build_opener(*handlers)

    # --- pages -------------------------------------------------------------------------------

    def project_files(self, name: str) -> tuple[IndexFile, ...]:
        """Every file of project ``name`` on the configured indexes."""
        seen: dict[str, IndexFile] = {}
        for base in self.index_urls:
            for file in self._page(base, canonicalize_name(name)):
                seen.setdefault(file.filename, file)
        return tuple(seen.values())

    def _page(self, base: str, project: str) -> tuple[IndexFile, ...]:
        url = urllib.parse.urljoin(base, f"{project}/")
        if url.startswith("file:"):
            return self._file_page(url)
        fetched = self._fetch_page(url)
        if fetched is None:
            return ()
        try:
            if fetched.content_type.startswith(JSON_TYPE):
                return parse_json_page(fetched.body, url=fetched.url)
            return parse_html_page(fetched.body.decode("utf-8", "replace"), url=fetched.url)
        except IndexPageError as exc:
            raise NetworkError(exc.reason, path=url, hint="check the index URL") from None

    def _file_page(self, url: str) -> tuple[IndexFile, ...]:
        folder = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
        page = folder / "index.html"
        if not page.is_file():
            return ()
        text = page.read_text(encoding="utf-8", errors="replace")
        return parse_html_page(text, url=page.as_uri())

    # --- downloads ---------------------------------------------------------------------------

    def download(self, file: IndexFile) -> Path:
        """The local copy of ``file``, fetched once and checked against the index's sha256."""
        if file.sha256 is None:
            raise NetworkError(
                "the index gives no sha256 for this file: it cannot be checked",
                path=file.url,
                hint="use an index that publishes sha256 digests",
            )
        folder = self.cache_dir / "downloads" / file.sha256
        target = folder / file.filename
        if target.is_file() and sha256_file(target) == file.sha256:
            return target
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{file.filename}.{secrets.token_hex(4)}.part"
        try:
            digest = self._fetch_to(file.url, partial)
            if digest != file.sha256:
                raise NetworkError(
                    f"the download's sha256 is {digest}, the index says {file.sha256}",
                    path=file.url,
                    hint="the file was changed in transit or on the server; do not use it",
                )
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
        return target

    def _fetch_to(self, url: str, target: Path) -> str:
        if url.startswith("file:"):
            source = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))
            try:
                data = source.read_bytes()
            except OSError as exc:
                raise NetworkError(f"cannot read: {exc.strerror or exc}", path=url) from exc
            target.write_bytes(data)
            return hashlib.sha256(data).hexdigest()

        def attempt() -> str:
            digest = hashlib.sha256()
            request = urllib.request.Request(url, headers={"User-Agent": _agent()})
            with (
                self._opener.open(request, timeout=self.timeout) as response,
                target.open("wb") as out,
            ):
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            return digest.hexdigest()

        return self._retrying(url, attempt)

    # --- transport ---------------------------------------------------------------------------

    def _fetch_page(self, url: str) -> _Fetched | None:
        """A project page, JSON form preferred; None when the index has no such project."""

        def attempt() -> _Fetched | None:
            request = urllib.request.Request(
                url, headers={"Accept": _ACCEPT, "User-Agent": _agent()}
            )
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return _Fetched(
                        body=response.read(),
                        content_type=response.headers.get("Content-Type", ""),
                        url=response.geturl(),
                    )
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return None
                raise

        return self._retrying(url, attempt)

    def _retrying(self, url: str, attempt: Callable[[], _T]) -> _T:
        delay = 0.5
        for number in range(1, self.retries + 1):
            try:
                return attempt()
            except urllib.error.HTTPError as exc:
                if exc.code not in _TRANSIENT_STATUS or number == self.retries:
                    raise NetworkError(
                        f"the index answered HTTP {exc.code} {exc.reason}", path=url
                    ) from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if number == self.retries:
                    reason = getattr(exc, "reason", exc)
                    raise NetworkError(
                        f"cannot reach the index: {reason}",
                        path=url,
                        hint="check the network and the index URL (pip config list)",
                    ) from exc
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def _agent() -> str:
    return f"reprobuild/{__version__}"


def release_files(files: Sequence[IndexFile], name: str, version: str) -> tuple[IndexFile, ...]:
    """The files of ``files`` that belong to release ``name`` ``version`` (sdists and wheels)."""
    wanted_name = canonicalize_name(name)
    try:
        wanted = Version(version)
    except InvalidVersion as exc:
        raise UsageError(f"not a version: {version!r}") from exc
    out = []
    for file in files:
        try:
            if file.filename.endswith(".whl"):
                file_name, file_version, _, _ = parse_wheel_filename(file.filename)
            else:
                file_name, file_version = parse_sdist_filename(file.filename)
        except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
            continue
        if file_name == wanted_name and file_version == wanted:
            out.append(file)
    return tuple(out)
