"""The buildinfo record: every input of a build and the digest of every output.

``<name>-<version>.buildinfo.json`` is written beside the artifacts by ``reprobuild build``.
Rebuilding from it (``reprobuild build --buildinfo FILE SOURCE``) installs the same pinned build
requirements, sets the same variables and ``SOURCE_DATE_EPOCH``, and checks that every output
has the recorded sha256.

Schema (version 1)::

    {
      "schema_version": 1, "tool": {"name": "reprobuild", "version": "…"}, "command": "build",
      "source": {"kind": "folder" | "sdist", "name": "…", "version": "…",
                 "sha256": "…",            # the sdist file, or the folder's file listing
                 "git_commit": "…" | null,
                 "git_dirty": true | false | null},  # tracked files differed from the commit
      "python": {"implementation": "cpython", "version": "3.11.7", "platform": "linux-x86_64"},
      "build_system": {"requires": [...], "build_backend": "…", "backend_path": [...]},
      "environments": {"sdist": ENV, "wheel": ENV},   # ENV: {"installer": "uv" | "pip",
                                                      #  "requirements": [{"name", "version",
                                                      #                    "hashes": [...]}]}
      "exclude_newer": "2024-01-01T00:00:00Z" | null,
      "source_date_epoch": 1700000000,
      "source_date_epoch_from": "option" | "environment" | "git" | "sdist" | "default",
      "build_clock": 1700000000 | null,   # the instant the wheel build's clock was replayed at
      "closing_clock": 1700000002 | null, # the time that clock read, when later (RECORD's)
      "dist_info_clock": 1700000001 | null, # the time of the files written into .dist-info
      "sdist_clock": 1700000000 | null,   # the same for the sdist built from a folder
      "setup_py": false,                  # true: the wheel was built by setup.py (legacy backend)
      "keep_egg_info": false,             # true: the sdist's unchanged egg-info keeps its times
      "distutils_config": "[bdist_wheel]\nuniversal = 1\n" | null,  # ~/.pydistutils.cfg
      "config_settings": {"KEY": "VALUE" | ["VALUE", …]} | null,  # PEP 517, given to each hook
      "wheel_from": "sdist" | "folder" | null,  # folder: no sdist made; null: no wheel built
      "environment_variables": {"TZ": "UTC", …},
      "normalized": true,
      "outputs": [{"filename": "…", "sha256": "…", "size": 123}, …]
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reprobuild.errors import UsageError
from reprobuild.frontend import PinnedRequirement
from reprobuild.report import JSONValue, envelope

__all__ = ["BuildOutput", "dump_buildinfo", "load_buildinfo", "outputs_of", "pins_of"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildOutput:
    """One artifact a build produced."""

    filename: str
    sha256: str
    size: int


def dump_buildinfo(body: dict[str, JSONValue]) -> str:
    """The record as JSON text (keys in the order given, two-space indent, final newline)."""
    return json.dumps(envelope("build", body), indent=2) + "\n"


def load_buildinfo(path: Path) -> dict[str, JSONValue]:
    """Read and check a buildinfo record; errors name the file and the field."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", path=str(path)) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"not a JSON document: {exc}", path=str(path)) from exc
    if not isinstance(doc, dict) or doc.get("command") != "build":
        raise UsageError('not a buildinfo record (no "command": "build")', path=str(path))
    if doc.get("schema_version") != 1:
        raise UsageError(
            f"buildinfo schema_version {doc.get('schema_version')!r} is not 1", path=str(path)
        )
    for key in ("source", "environments", "source_date_epoch", "outputs"):
        if key not in doc:
            raise UsageError(f"buildinfo has no {key!r}", path=str(path))
    return doc


_DAMAGED = "the record was changed or damaged: build again to write a new one"


def outputs_of(doc: dict[str, JSONValue], *, path: str) -> tuple[BuildOutput, ...]:
    """The recorded outputs of a buildinfo record."""
    found = []
    outputs = doc.get("outputs")
    if not isinstance(outputs, list):
        raise UsageError("buildinfo 'outputs' is not a list", path=path)
    for index, entry in enumerate(outputs):
        where = f"buildinfo outputs[{index}]"
        if not isinstance(entry, dict):
            raise UsageError(f"{where} is not an object", path=path, hint=_DAMAGED)
        filename, sha256, size = entry.get("filename"), entry.get("sha256"), entry.get("size")
        if not (isinstance(filename, str) and isinstance(sha256, str) and isinstance(size, int)):
            raise UsageError(
                f'{where} needs "filename" and "sha256" (strings) and "size" (a number)',
                path=path,
                hint=_DAMAGED,
            )
        found.append(BuildOutput(filename=filename, sha256=sha256, size=size))
    return tuple(found)


def pins_of(doc: dict[str, JSONValue], *, path: str) -> dict[str, tuple[PinnedRequirement, ...]]:
    """The exact build requirements recorded per hook (``sdist``, ``wheel``)."""
    environments = doc.get("environments")
    if not isinstance(environments, dict):
        raise UsageError("buildinfo 'environments' is not an object", path=path)
    pins: dict[str, tuple[PinnedRequirement, ...]] = {}
    for kind, env in environments.items():
        requirements = env.get("requirements") if isinstance(env, dict) else None
        if not isinstance(requirements, list):
            raise UsageError(f"buildinfo environment {kind!r} has no requirements", path=path)
        found = []
        for index, entry in enumerate(requirements):
            where = f"buildinfo environments.{kind}.requirements[{index}]"
            if not isinstance(entry, dict):
                raise UsageError(f"{where} is not an object", path=path, hint=_DAMAGED)
            name, version, hashes = entry.get("name"), entry.get("version"), entry.get("hashes")
            if not (
                isinstance(name, str)
                and isinstance(version, str)
                and isinstance(hashes, list)
                and all(isinstance(h, str) for h in hashes)
            ):
                raise UsageError(
                    f'{where} needs "name" and "version" (strings) and "hashes" (a list of '
                    "strings)",
                    path=path,
                    hint=_DAMAGED,
                )
            found.append(
                PinnedRequirement(name=name, version=version, hashes=tuple(str(h) for h in hashes))
            )
        pins[kind] = tuple(found)
    return pins
