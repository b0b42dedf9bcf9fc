"""Where build requirements come from: pip's index configuration, passed on to uv.

reprobuild names no package index of its own. pip reads its configuration files and ``PIP_*``
environment variables itself; uv reads neither, so the index settings pip would use are read
once (by asking pip, ``pip config list``) and given to uv as command-line options. With no
configuration at all, each installer uses its own default index.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

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


def load_index_config(cache_dir: Path | None = None) -> IndexConfig:
    """The index configuration pip would use here, asked of pip itself (``pip config list``).

    When pip cannot be run, only the ``PIP_INDEX_URL``, ``PIP_EXTRA_INDEX_URL``,
    ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, ``PIP_TRUSTED_HOST`` and ``PIP_CERT`` environment
    variables are read. The answer is kept for the life of the process while the environment
    variables that can change it stay the same; with ``cache_dir``, also on disk there while
    pip's configuration files, the environment variables and pip itself stay the same.
    """
    relevant = tuple(
        sorted(
            (key, value)
            for key, value in os.environ.items()
            if key.startswith(("PIP_", "XDG_CONFIG")) or key in {"HOME", "VIRTUAL_ENV"}
        )
    )
    # one answer per process and environment, whoever asked first and with whichever cache
    # folder: a build asks with its cache folder for its action key, then its installer asks
    # without one (asking pip again cost every build half a second)
    if relevant not in _ANSWERS:
        _ANSWERS[relevant] = _load_index_config(
            relevant, None if cache_dir is None else Path(cache_dir)
        )
    return _ANSWERS[relevant]


#: pip's answer in this process, by the environment variables that can change it.
_ANSWERS: dict[tuple[tuple[str, str], ...], IndexConfig] = {}


def _config_files(environ: dict[str, str]) -> list[Path]:
    """Every file pip may read its configuration from (pip's documented places, and a few
    more: a file listed here that pip does not read only costs a look)."""
    home = Path(environ.get("HOME") or Path("~").expanduser())
    xdg_home = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    xdg_dirs = (environ.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(os.pathsep)
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d]
    files += [Path("/etc/pip.conf"), home / ".pip" / "pip.conf", xdg_home / "pip" / "pip.conf"]
    files.append(Path(sys.prefix) / "pip.conf")
    if environ.get("VIRTUAL_ENV"):
        files.append(Path(environ["VIRTUAL_ENV"]) / "pip.conf")
    if environ.get("PIP_CONFIG_FILE"):
        files.append(Path(environ["PIP_CONFIG_FILE"]))
    return files


def _pip_answer_key(environ: dict[str, str]) -> str | None:
    """A digest of all that ``pip config list`` reads: the environment variables, the
    interpreter and its pip, and each configuration file's identity and time of change (or
    that it is missing); None when pip is not there to ask."""
    import hashlib
    import importlib.util
    import json

    spec = importlib.util.find_spec("pip")
    if spec is None or spec.origin is None:
        return None
    looked = [Path(spec.origin), *_config_files(environ)]
    stats: list[object] = []
    for path in looked:
        try:
            info = path.stat()
        except OSError:
            stats.append(None)
            continue
        stats.append([info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns])
    text = json.dumps([sorted(environ.items()), sys.executable, [str(p) for p in looked], stats])
    return hashlib.sha256(text.encode()).hexdigest()


def _load_index_config(
    environ: tuple[tuple[str, str], ...], cache_dir: Path | None = None
) -> IndexConfig:
    """pip's answer; with ``cache_dir``, kept there by :func:`_pip_answer_key` (asking pip
    costs half a second, most of a command that finds everything in its cache): the same
    files and variables give the same answer."""
    from reprobuild._fs import write_bytes_atomic

    key = _pip_answer_key(dict(environ)) if cache_dir is not None else None
    kept = cache_dir / "pip-config" / f"{key}.txt" if cache_dir is not None and key else None
    if kept is not None:
        try:
            return parse_pip_config(kept.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            pass
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
        if kept is not None:
            try:
                kept.parent.mkdir(parents=True, exist_ok=True)
                write_bytes_atomic(kept, proc.stdout.encode("utf-8"))
            except OSError:
                pass  # an answer not kept is asked again next time
        return parse_pip_config(proc.stdout)
    env = dict(environ)
    lines = [
        f":env:.{name[4:].lower().replace('_', '-')}={value!r}"
        for name, value in env.items()
        if name.startswith("PIP_")
    ]
    return parse_pip_config("\n".join(lines))
