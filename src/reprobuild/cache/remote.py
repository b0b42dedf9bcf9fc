"""The remote side of the cache: a client of Bazel's HTTP cache protocol.

A remote cache is a folder of entries behind a base URL, as bazel-remote serves it, or nginx
with WebDAV ``PUT``: ``<base>/ac/<key>`` holds an action's result (opaque bytes here, at most
:data:`ACTION_SIZE_LIMIT` of them) and ``<base>/cas/<sha256>`` a blob, named by the sha256 of
its bytes. ``GET`` fetches an entry, ``HEAD`` asks whether it is there, ``PUT`` stores one; a
missing entry is 404. Keys and digests are 64 lowercase hexadecimal digits, checked before any
request, so a name can never reach another path on the server.

A blob is checked against its name both ways: a download is hashed as it streams into a
temporary file beside its destination, which it replaces only when the sha256 is the digest
asked for (else :class:`PoisonedEntryError`), and an upload is hashed as it streams out, its
last bytes held back until the sha256 is known to be the digest it is stored under, so the
server never receives a whole body that is not. Bodies move in chunks: memory holds one, never
a blob.

Transient failures (a refused or reset connection, a timeout, HTTP 408, 429 and 5xx) are tried
again with backoff. Credentials travel in ``headers`` (``Authorization: Bearer …``) and are
never part of an error's text or of the client's ``repr``; a URL with a user or password in it
is refused for that reason. Proxies are those of the environment, as ``urllib`` reads them.
Redirects are not followed: the headers would go along to wherever the server points.

The client is written on the standard library's ``urllib``, as the index client is.
"""

from __future__ import annotations

import hashlib
import http.client
import re
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from email.message import Message
from pathlib import Path
from types import MappingProxyType
from typing import IO, TypeVar

from reprobuild._fs import atomic_write
from reprobuild.errors import CacheError, NetworkError, UsageError

__all__ = [
    "ACTION_SIZE_LIMIT",
    "AccessDeniedError",
    "PoisonedEntryError",
    "RemoteCache",
    "RemoteStats",
]

#: The largest action result the client stores or accepts, in bytes.
ACTION_SIZE_LIMIT = 1 << 20

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_CHUNK = 1 << 18
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
_AGENT = "reprobuild"

Sleep = Callable[[float], None]
_T = TypeVar("_T")


class PoisonedEntryError(CacheError):
    """A cache entry whose bytes are not what its name says: a blob whose sha256 is not its
    digest, or an action result larger than any reprobuild writes. Nothing of it was kept.

    ``key`` is the digest or key the entry is stored under, ``actual`` the sha256 its bytes
    have (None when they were not all read).
    """

    def __init__(
        self,
        reason: str,
        *,
        key: str,
        actual: str | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(reason, path=path, hint=hint)
        self.key = key
        self.actual = actual


class AccessDeniedError(NetworkError):
    """The remote cache answered 401 or 403: it wants credentials, or refused the ones given."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteStats:
    """What a :class:`RemoteCache` has done so far.

    ``hits`` and ``misses`` count the lookups that fetch (:meth:`RemoteCache.get_action` and
    :meth:`RemoteCache.get_blob`), ``poisoned`` the remote entries refused for their bytes,
    ``uploads`` the entries sent, ``skipped_puts`` the puts a read-only client did not send,
    and ``bytes_down``/``bytes_up`` the bytes of entries received and sent.
    """

    hits: int = 0
    misses: int = 0
    poisoned: int = 0
    uploads: int = 0
    skipped_puts: int = 0
    bytes_down: int = 0
    bytes_up: int = 0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Makes a redirect an error (HTTP 3xx) instead of a request elsewhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


class _VerifiedUpload:
    """A file read for upload, hashed as it goes; the read that would hand out its last bytes
    raises :class:`PoisonedEntryError` instead when their sha256 is not ``digest``, and so does
    any read once the file has grown or shrunk past ``size`` (the request's Content-Length)."""

    def __init__(self, handle: IO[bytes], *, digest: str, size: int, path: Path) -> None:
        self._handle = handle
        self._digest = digest
        self._size = size
        self._path = path
        self._hash = hashlib.sha256()
        self._read = 0
        self._checked = False

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size if 0 < size <= _CHUNK else _CHUNK)
        self._read += len(chunk)
        self._hash.update(chunk)
        if self._read > self._size or (not chunk and self._read < self._size):
            raise PoisonedEntryError(
                "the file changed while it was uploaded; the upload was stopped",
                key=self._digest,
                path=str(self._path),
            )
        if self._read == self._size and not self._checked:
            self._checked = True
            actual = self._hash.hexdigest()
            if actual != self._digest:
                raise PoisonedEntryError(
                    f"the file's sha256 is {actual}, not the digest it was to be stored "
                    f"under ({self._digest}); it was not uploaded",
                    key=self._digest,
                    actual=actual,
                    path=str(self._path),
                    hint="the local copy is corrupt: remove it from the local cache",
                )
        return chunk


class RemoteCache:
    """A remote cache at ``base_url`` (``http`` or ``https``), spoken to in Bazel's HTTP cache
    protocol.

    ``headers`` go with every request (an ``Authorization`` header, typically). A
    ``read_only`` client sends no ``PUT``: its puts are skipped and counted. ``timeout`` is in
    seconds, for each connection and each read; a failure that may pass is tried ``retries``
    times in all, waiting (with ``sleep``) half a second, then twice as long each time.
    ``context`` is the TLS context for ``https`` (by default, the system's certificates).
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] = _NO_HEADERS,
        read_only: bool = False,
        timeout: float = 30,
        retries: int = 3,
        sleep: Sleep = time.sleep,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = _parse_base_url(base_url)
        self.read_only = read_only
        self.timeout = timeout
        if retries < 1:
            raise UsageError(f"retries must be at least 1, not {retries}")
        self.retries = retries
        self._headers = {"User-Agent": _AGENT, **_check_headers(headers)}
        self._sleep = sleep
        handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self._opener = urllib.request.build_opener(*handlers)
        self._lock = threading.Lock()
        self._counts = {field.name: 0 for field in fields(RemoteStats)}

    def __repr__(self) -> str:
        return f"RemoteCache({self.base_url!r}, read_only={self.read_only})"

    @property
    def stats(self) -> RemoteStats:
        """The counters so far, as one snapshot."""
        with self._lock:
            return RemoteStats(**self._counts)

    # --- action cache ------------------------------------------------------------------------

    def get_action(self, key: str) -> bytes | None:
        """The action result stored under ``key``, or None when there is none."""
        url = self._url("ac", key)

        def attempt() -> bytes | None:
            try:
                with self._open(url, "GET") as response:
                    return response.read(ACTION_SIZE_LIMIT + 1)  # one more tells it is too large
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    exc.close()
                    return None
                raise

        data = self._retrying(url, attempt)
        if data is None:
            self._count(misses=1)
            return None
        if len(data) > ACTION_SIZE_LIMIT:
            self._count(poisoned=1)
            raise PoisonedEntryError(
                f"the action result is larger than {ACTION_SIZE_LIMIT} bytes: "
                "not one reprobuild stores",
                key=key,
                path=url,
                hint="something else writes to this cache under the same key: remove the entry",
            )
        self._count(hits=1, bytes_down=len(data))
        return data

    def put_action(self, key: str, data: bytes) -> None:
        """Store ``data`` as the action result under ``key`` (replacing any)."""
        url = self._url("ac", key)
        if len(data) > ACTION_SIZE_LIMIT:
            raise UsageError(
                f"an action result of {len(data)} bytes is larger than the "
                f"{ACTION_SIZE_LIMIT} a remote cache takes",
                path=url,
            )
        if self.read_only:
            self._count(skipped_puts=1)
            return

        def attempt() -> None:
            headers = {"Content-Type": "application/octet-stream"}
            with self._open(url, "PUT", data=data, headers=headers) as response:
                response.read()

        self._retrying(url, attempt)
        self._count(uploads=1, bytes_up=len(data))

    # --- blobs -------------------------------------------------------------------------------

    def has_blob(self, digest: str) -> bool:
        """Whether the cache holds a blob with sha256 ``digest`` (asked with ``HEAD``)."""
        url = self._url("cas", digest)

        def attempt() -> bool:
            try:
                with self._open(url, "HEAD") as response:
                    response.read()
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    exc.close()
                    return False
                raise
            return True

        return self._retrying(url, attempt)

    def get_blob(self, digest: str, dest: Path) -> bool:
        """Download the blob with sha256 ``digest`` to ``dest`` (whose folder must exist);
        False when the cache has none.

        The body goes to a temporary file beside ``dest``, hashed as it comes, and replaces
        ``dest`` only when its sha256 is ``digest``; otherwise :class:`PoisonedEntryError` is
        raised, and ``dest`` is as it was, with nothing written beside it.
        """
        url = self._url("cas", digest)
        dest = Path(dest)

        def attempt() -> int | None:
            try:
                response = self._open(url, "GET")
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    exc.close()
                    return None
                raise
            with response, atomic_write(dest) as out:
                sha256 = hashlib.sha256()
                buffer = bytearray(_CHUNK)
                view = memoryview(buffer)
                size = 0
                while count := response.readinto(buffer):
                    sha256.update(view[:count])
                    out.write(view[:count])
                    size += count
                actual = sha256.hexdigest()
                if actual != digest:
                    self._count(poisoned=1)
                    raise PoisonedEntryError(
                        f"the blob's sha256 is {actual}, not its name: the cache entry is "
                        "poisoned, and nothing was kept",
                        key=digest,
                        actual=actual,
                        path=url,
                        hint="remove the entry from the remote cache; find out what wrote it",
                    )
            return size

        try:
            size = self._retrying(url, attempt)
        except OSError as exc:  # the destination, not the connection (those are retried)
            raise CacheError(
                f"cannot write the downloaded blob: {exc.strerror or exc}",
                path=str(dest),
                hint="give a folder this user may write, with space for the blob",
            ) from exc
        if size is None:
            self._count(misses=1)
            return False
        self._count(hits=1, bytes_down=size)
        return True

    def put_blob(self, digest: str, path: Path) -> None:
        """Upload the file at ``path`` as the blob with sha256 ``digest``, unless the cache
        already has it.

        The file is streamed with its Content-Length and hashed on the way; when its sha256 is
        not ``digest`` (or it changes meanwhile) the upload stops before its last bytes, so the
        server stores nothing, and :class:`PoisonedEntryError` is raised.
        """
        url = self._url("cas", digest)
        path = Path(path)
        if self.read_only:
            self._count(skipped_puts=1)
            return
        if self.has_blob(digest):
            return

        def attempt() -> int:
            with path.open("rb") as handle:
                size = handle.seek(0, 2)
                handle.seek(0)
                body = _VerifiedUpload(handle, digest=digest, size=size, path=path)
                headers = {
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(size),
                }
                with self._open(url, "PUT", data=body, headers=headers) as response:
                    response.read()
            return size

        try:
            size = self._retrying(url, attempt)
        except OSError as exc:  # the file, not the connection (those are retried)
            raise UsageError(
                f"cannot read the blob to upload: {exc.strerror or exc}", path=str(path)
            ) from exc
        self._count(uploads=1, bytes_up=size)

    # --- transport ---------------------------------------------------------------------------

    def _url(self, kind: str, name: str) -> str:
        if not isinstance(name, str) or not _HEX64.fullmatch(name):
            what = "action key" if kind == "ac" else "blob digest"
            raise UsageError(
                f"not a valid {what}: {str(name)[:80]!r}",
                hint="keys and digests are sha256 digests: 64 lowercase hexadecimal digits",
            )
        return f"{self.base_url}/{kind}/{name}"

    def _open(
        self,
        url: str,
        method: str,
        *,
        data: bytes | _VerifiedUpload | None = None,
        headers: Mapping[str, str] = _NO_HEADERS,
    ) -> http.client.HTTPResponse:
        request = urllib.request.Request(
            url, data=data, headers={**self._headers, **headers}, method=method
        )
        response: http.client.HTTPResponse = self._opener.open(request, timeout=self.timeout)
        return response

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                self._counts[name] += delta

    def _retrying(self, url: str, attempt: Callable[[], _T]) -> _T:
        delay = 0.5
        for number in range(1, self.retries + 1):
            last = number == self.retries
            try:
                return attempt()
            except urllib.error.HTTPError as exc:
                exc.close()
                if exc.code in {401, 403}:
                    raise AccessDeniedError(
                        f"the cache answered HTTP {exc.code} {exc.reason}",
                        path=url,
                        hint="give the cache's auth header (Authorization: Bearer …) with a "
                        "token it accepts, or use the cache read-only if the token may only read",
                    ) from exc
                if exc.code not in _TRANSIENT_STATUS or last:
                    hint = (
                        "a cache that redirects is not followed: give the URL it redirects to"
                        if 300 <= exc.code < 400
                        else None
                    )
                    raise NetworkError(
                        f"the cache answered HTTP {exc.code} {exc.reason}", path=url, hint=hint
                    ) from exc
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, ssl.SSLCertVerificationError):
                    raise NetworkError(
                        f"the cache's certificate is not trusted: {exc.reason.verify_message}",
                        path=url,
                        hint="give a TLS context that trusts the cache's certificate authority",
                    ) from exc
                if last:
                    raise _unreachable(url, exc.reason) from exc
            except (ConnectionError, TimeoutError, ssl.SSLError, http.client.HTTPException) as exc:
                if last:
                    raise _unreachable(url, exc) from exc
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def _unreachable(url: str, reason: object) -> NetworkError:
    return NetworkError(
        f"cannot reach the cache: {reason}",
        path=url,
        hint="check that the cache server is running and its URL is right",
    )


def _parse_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash, refused when it is not a plain http(s) URL."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.username is not None or parts.password is not None:
        shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        raise UsageError(
            "a remote cache URL may not carry a user or password: it would show in messages",
            path=shown,
            hint="give the credentials as a header (Authorization: Bearer …)",
        )
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise UsageError(
            "a remote cache URL is http:// or https:// and names a host", path=base_url
        )
    if parts.query or parts.fragment:
        raise UsageError("a remote cache URL has no query or fragment", path=base_url)
    return base_url.rstrip("/")


def _check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """``headers`` as a dict, refused when a name is not a token or a value would end the
    header early (the value is never shown: it may be a secret)."""
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            raise UsageError(f"not a valid HTTP header name: {name!r}")
        if any(char in value for char in "\r\n\0"):
            raise UsageError(f"the value of header {name} has a line break or a NUL in it")
    return dict(headers)
