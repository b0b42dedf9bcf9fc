"""Where build requirements come from: pip's index configuration, passed on to uv.

reprobuild names no package index of its own. pip reads its configuration files and ``PIP_*``
environment variables itself; uv reads neither, so the index settings pip would use are read
once (by asking pip, ``pip config list``) and given to uv as command-line options. With no
configuration at all, each installer uses its own default index.
"""

from __future__ import annotations

import ast
import functools
import os
import subprocess
import sys
from dataclasses import dataclass

__all__ = ["IndexConfig", "load_index_config", "parse_pip_config"]

#: pip's sections, weakest first: a value in a later one wins (``pip install`` reads these).
_SECTIONS = ("global", "install", ":env:")
_TRUE = {"1", "true", "yes", "on", "y", "t"}


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexConfig:
    """The index options of pip's configuration that decide what gets installed.

    ``index_url`` replaces the default index, ``extra_index_urls`` are searched as well (pip
    picks the best version across all of them), ``find_links`` are folders or pages of
    distribution files, ``no_index`` ignores every index, ``trusted_hosts`` may be reached
    without valid TLS, and ``cert`` is a CA bundle.
    """

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    trusted_hosts: tuple[str, ...] = ()
    cert: str | None = None

    def _index_args(self) -> list[str]:
        """The options pip and uv spell alike: indexes, find-links, --no-index."""
        args: list[str] = []
        if self.index_url:
            args += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        for link in self.find_links:
            args += ["--find-links", link]
        if self.no_index:
            args.append("--no-index")
        return args

    def uv_args(self) -> list[str]:
        """The same settings as options of ``uv pip compile`` / ``uv pip install``."""
        args = self._index_args()
        for host in self.trusted_hosts:
            args += ["--allow-insecure-host", host]
        if self.extra_index_urls:
            # pip compares every index and takes the best version; uv by default stops at the
            # first index that has the name. Ask uv for pip's behaviour.
            args += ["--index-strategy", "unsafe-best-match"]
        return args

    def uv_environ(self) -> dict[str, str]:
        """Environment variables for uv: pip's ``cert`` is uv's ``SSL_CERT_FILE``."""
        return {"SSL_CERT_FILE": self.cert} if self.cert else {}

    def pip_args(self) -> list[str]:
        """The same settings as pip options (for an explicit configuration; pip reads its own)."""
        args = self._index_args()
        for host in self.trusted_hosts:
            args += ["--trusted-host", host]
        if self.cert:
            args += ["--cert", self.cert]
        return args


def parse_pip_config(text: str) -> IndexConfig:
    """Read the output of ``pip config list`` (``section.key='value'`` lines).

    Sections are merged as ``pip install`` merges them: ``global``, then ``install``, then the
    ``PIP_*`` environment variables (listed by pip as ``:env:``). Lists (extra indexes, find
    links, trusted hosts) are whitespace-separated, as in pip's files.
    """
    values: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        name, sep, raw = line.partition("=")
        section, dot, key = name.rpartition(".")
        if not sep or not dot or section not in _SECTIONS:
            continue
        try:
            value = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            value = raw.strip()
        values.setdefault(key.strip().replace("_", "-"), {})[section] = str(value)

    def get(key: str) -> str | None:
        found = values.get(key, {})
        for section in reversed(_SECTIONS):
            if section in found:
                return found[section]
        return None

    def many(key: str) -> tuple[str, ...]:
        return tuple((get(key) or "").split())

    no_index = (get("no-index") or "").strip().lower() in _TRUE
    return IndexConfig(
        index_url=get("index-url") or None,
        extra_index_urls=many("extra-index-url"),
        find_links=many("find-links"),
        no_index=no_index,
        trusted_hosts=many("trusted-host"),
        cert=get("cert") or None,
    )


def load_index_config() -> IndexConfig:
    """The index configuration pip would use here, asked of pip itself (``pip config list``).

    When pip cannot be run, only the ``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``,
    ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, ``PIP_TRUSTED_HOST`` and ``PIP_CERT`` environment
    variables are read. The answer is kept for the life of the process while the environment
    variables that can change it stay the same.
    """
    relevant = tuple(
        sorted(
            (key, value)
            for key, value in os.environ.items()
            if key.startswith(("PIP_", "XDG_CONFIG")) or key in {"HOME", "VIRTUAL_ENV"}
        )
    )
    return _load_index_config(relevant)


@functools.lru_cache(maxsize=8)
def _load_index_config(environ: tuple[tuple[str, str], ...]) -> IndexConfig:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        proc = None
    if proc is not None and proc.returncode == 0:
        return parse_pip_config(proc.stdout)
    env = dict(environ)
    lines = [
        f":env:.{name[4:].lower().replace('_', '-')}={value!r}"
        for name, value in env.items()
        if name.startswith("PIP_")
    ]
    return parse_pip_config("\n".join(lines))
