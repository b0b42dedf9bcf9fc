"""Wheels of build requirements that reprobuild built from their sdists, kept in the cache.

A build requirement published only as an sdist is built into a wheel in the sandbox (by
:func:`reprobuild.build.build`), and the wheel is kept here so that build environments can be
installed from it, as ``find_links``, pinned by its own sha256. The folder holds::

    <cache_dir>/wheels/<sha256>/<wheel filename>    the wheel, named by its content
    <cache_dir>/wheels/<sha256>.json                where it came from (sdist, sandbox, buildinfo)
    <cache_dir>/wheels/sources/<key>.json           the wheel an sdist was built into, by key

Each wheel has a folder of its own, so that a resolver given that folder sees that wheel and no
other (a local file has no upload time for a cut-off date to exclude it by). A file is written
to a temporary name and renamed into place, and a wheel already in place is never written again:
a folder named by a sha256 holds the bytes of that sha256 or nothing. Every file is checked
against its sha256 when it is taken from here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from reprobuild._fs import sha256_file, sha256_hex, write_bytes_atomic
from reprobuild._types import JSONValue
from reprobuild.errors import BuildError

__all__ = ["BuiltWheel", "find_built", "kept_wheels", "load_built", "source_key", "store_built"]

#: The folder of the cache that holds the wheels.
WHEELS = "wheels"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltWheel:
    """A wheel built from a build requirement's sdist, as kept in the cache.

    ``path`` is the wheel (its folder is the find-links folder to offer), ``sha256`` its digest;
    ``sdist``, ``sdist_sha256`` and ``sdist_url`` name the sdist it was built from, ``sandbox``
    the sandbox it was built in (as :meth:`~reprobuild.frontend.sandbox.Sandbox.to_json` says).
    """

    name: str
    version: str
    path: Path
    sha256: str
    sdist: str
    sdist_sha256: str
    sdist_url: str
    sandbox: JSONValue

    @property
    def folder(self) -> Path:
        """The folder to give an installer as find-links: this wheel, and nothing else."""
        return self.path.parent

    def to_json(self) -> dict[str, JSONValue]:
        """The wheel's record in a buildinfo document."""
        return {
            "name": self.name,
            "version": self.version,
            "wheel": self.path.name,
            "sha256": self.sha256,
            "sdist": self.sdist,
            "sdist_sha256": self.sdist_sha256,
            "sandbox": self.sandbox,
        }


def source_key(
    *,
    sdist_sha256: str,
    implementation: str,
    python_version: str,
    exclude_newer: datetime | None,
    sandbox: JSONValue,
) -> str:
    """The key of a wheel build: everything that can change the wheel an sdist is built into
    (the sdist, the interpreter, the cut-off its build requirements are resolved as of) and the
    sandbox it ran in (a wheel built without one is not reused by a sandboxed build)."""
    cutoff = None
    if exclude_newer is not None:
        moment = exclude_newer if exclude_newer.tzinfo else exclude_newer.replace(tzinfo=UTC)
        cutoff = moment.astimezone(UTC).isoformat()
    text = json.dumps(
        {
            "sdist_sha256": sdist_sha256,
            "implementation": implementation,
            "python_version": python_version,
            "exclude_newer": cutoff,
            "sandbox": sandbox,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return sha256_hex(text.encode("utf-8"))


def store_built(
    cache_dir: Path,
    key: str,
    wheel: Path,
    *,
    name: str,
    version: str,
    sdist: str,
    sdist_sha256: str,
    sdist_url: str,
    sandbox: JSONValue,
    buildinfo: JSONValue = None,
) -> BuiltWheel:
    """Keep ``wheel`` (built from the sdist ``sdist``) under the build key ``key``."""
    root = Path(cache_dir) / WHEELS
    data = wheel.read_bytes()
    digest = sha256_hex(data)
    target = root / digest / wheel.name
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.is_file() and sha256_file(target) == digest):
            write_bytes_atomic(target, data, mode=0o644)
        built = BuiltWheel(
            name=name,
            version=version,
            path=target,
            sha256=digest,
            sdist=sdist,
            sdist_sha256=sdist_sha256,
            sdist_url=sdist_url,
            sandbox=sandbox,
        )
        record: dict[str, JSONValue] = {
            "schema_version": 1,
            "tool": "reprobuild",
            **built.to_json(),
            "sdist_url": sdist_url,
            "buildinfo": buildinfo,
        }
        write_bytes_atomic(
            root / f"{digest}.json", (json.dumps(record, indent=2) + "\n").encode("utf-8")
        )
        (root / "sources").mkdir(exist_ok=True)
        write_bytes_atomic(
            root / "sources" / f"{key}.json",
            (json.dumps({"key": key, "sha256": digest, "wheel": wheel.name}) + "\n").encode(),
        )
    except OSError as exc:
        raise BuildError(
            f"cannot keep the wheel in the cache: {exc.strerror or exc}",
            path=str(root),
            hint="give a cache folder you can write to",
        ) from exc
    return built


def find_built(cache_dir: Path, key: str) -> BuiltWheel | None:
    """The wheel kept under the build key ``key``, when it is there and intact."""
    try:
        entry = json.loads((Path(cache_dir) / WHEELS / "sources" / f"{key}.json").read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    digest, filename = entry.get("sha256"), entry.get("wheel")
    if not isinstance(digest, str) or not isinstance(filename, str):
        return None
    return load_built(Path(cache_dir) / WHEELS / digest / filename)


def load_built(wheel: Path) -> BuiltWheel | None:
    """The record of the kept wheel ``wheel`` (``<cache>/wheels/<sha256>/<filename>``), when the
    wheel is intact and its record is there; ``None`` otherwise."""
    digest = wheel.parent.name
    if not _SHA256.fullmatch(digest) or "/" in wheel.name or wheel.name.startswith("."):
        return None
    try:
        record = json.loads(wheel.parent.with_name(f"{digest}.json").read_bytes())
        intact = wheel.is_file() and sha256_file(wheel) == digest
    except (OSError, ValueError):
        return None
    if not intact or not isinstance(record, dict) or record.get("sha256") != digest:
        return None
    fields = ("name", "version", "sdist", "sdist_sha256", "sdist_url")
    values = [record.get(field) for field in fields]
    if not all(isinstance(value, str) for value in values) or record.get("wheel") != wheel.name:
        return None
    name, version, sdist, sdist_sha256, sdist_url = (str(value) for value in values)
    return BuiltWheel(
        name=name,
        version=version,
        path=wheel,
        sha256=digest,
        sdist=sdist,
        sdist_sha256=sdist_sha256,
        sdist_url=sdist_url,
        sandbox=record.get("sandbox"),
    )


def kept_wheels(folder: Path) -> tuple[BuiltWheel, ...]:
    """The kept wheels in the find-links folder ``folder`` (none when it is not one of ours)."""
    if not folder.is_dir():
        return ()
    found = (load_built(path) for path in sorted(folder.glob("*.whl")))
    return tuple(wheel for wheel in found if wheel is not None)
