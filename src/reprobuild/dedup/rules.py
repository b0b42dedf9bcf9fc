"""The canonicalization rules of dedup's ``canonical`` and ``payload`` levels: named, versioned,
each saying what it touches and what class of member it sets aside.

A rule matches members by path (and package format). A content rule rewrites a member's bytes
into a canonical form, or drops the member (``None``); a path rule renames it. The rules of the
``canonical`` level read only metadata, which is small: its bytes are kept when a package is
read (:func:`keeps`). Each rule's ``version`` changes whenever what it does changes, so a
manifest digest made under one set of rules is never taken for one made under another
(:data:`RULES_DIGEST`).

Pure: no clock, environment, network or subprocess.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from hashlib import sha256

from reprobuild.compare.difference import Category
from reprobuild.dedup.model import Entry, Level, MemberClass, Package, PackageFormat

__all__ = [
    "KEEP_MAX",
    "RULES",
    "RULES_DIGEST",
    "Rule",
    "bytecode",
    "classify",
    "entry_point",
    "identity",
    "keeps",
    "python_path",
    "rule_for",
]

#: The largest member whose bytes are kept for the rules (metadata is far smaller).
KEEP_MAX = 4 << 20
#: The largest script in ``bin/`` kept to tell whether it is a generated entry point.
SCRIPT_MAX = 16 << 10

Transform = Callable[[bytes, Package], bytes | None]

_CONDA = frozenset({PackageFormat.CONDA, PackageFormat.CONDA_TAR_BZ2})
_ALL = frozenset(PackageFormat)
#: A member a rule replaces with a note, because it agrees with what it is derived from.
AGREES = b"(agrees with the package's members)\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One canonicalization rule. ``sets_aside`` is the class of what it removes and
    ``category`` the category (compare's) of the differences it removes."""

    name: str
    version: int
    level: Level
    touches: str
    sets_aside: MemberClass
    category: Category
    formats: frozenset[PackageFormat]
    matches: Callable[[str], bool]
    transform: Transform | None = None  #: None: the rule is applied by the level itself

    def applies(self, path: str, fmt: PackageFormat) -> bool:
        return fmt in self.formats and self.matches(path)


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _json(data: bytes) -> object:
    """The JSON value of ``data``; ValueError when it is not JSON."""
    return json.loads(data)


def _sorted_lists(value: object) -> object:
    """``value`` with every list of plain values sorted (set-like lists), recursively."""
    if isinstance(value, dict):
        return {k: _sorted_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_sorted_lists(v) for v in value]
        if all(isinstance(v, str | int | float | bool) or v is None for v in items):
            return sorted(items, key=json.dumps)
        return items
    return value


def _member_digests(package: Package) -> dict[str, Entry]:
    return {entry.path: entry for entry in package.entries}


# -- conda ------------------------------------------------------------------------------------

_INDEX_SETS = ("depends", "constrains", "track_features")


def _conda_index(data: bytes, package: Package) -> bytes | None:
    value = _json(data)
    if not isinstance(value, dict):
        return data
    value.pop("timestamp", None)
    for key in _INDEX_SETS:
        if isinstance(value.get(key), list):
            value[key] = sorted(value[key], key=str)
    return _dumps(value)


#: Keys of ``about.json`` that describe the build machine and its tools, not the package.
_ABOUT_PROVENANCE = (
    "conda_build_version",
    "conda_version",
    "conda_private",
    "env_vars",
    "root_pkgs",
    "channels",
    "rattler_build_version",
    "recipe_maintainers_build",
)


def _conda_about(data: bytes, package: Package) -> bytes | None:
    value = _json(data)
    if not isinstance(value, dict):
        return data
    for key in _ABOUT_PROVENANCE:
        value.pop(key, None)
    extra = value.get("extra")
    if isinstance(extra, dict):
        for key in ("copy_test_source_files", "final", "flow_run_id", "remote_url", "sha"):
            extra.pop(key, None)
    return _dumps(value)


def _drop(data: bytes, package: Package) -> bytes | None:
    return None


def _conda_paths(data: bytes, package: Package) -> bytes | None:
    value = _json(data)
    if not isinstance(value, dict) or not isinstance(value.get("paths"), list):
        return data
    members = _member_digests(package)
    rows: list[object] = []
    for item in value["paths"]:
        if not isinstance(item, dict):
            rows.append(item)
            continue
        row = dict(item)
        member = members.get(str(row.get("_path")))
        if member is not None:
            if row.get("sha256") == member.sha256:
                row.pop("sha256")
            if row.get("size_in_bytes") == member.size:
                row.pop("size_in_bytes")
        if row.get("prefix_placeholder"):
            row["prefix_placeholder"] = "<build-prefix>"
        rows.append(row)
    rows.sort(key=lambda r: json.dumps(r, sort_keys=True))
    value["paths"] = rows
    return _dumps(value)


def _installed_files(package: Package) -> set[str]:
    return {
        e.path for e in package.entries if not e.path.startswith("info/") and e.kind.value != "dir"
    }


def _conda_files(data: bytes, package: Package) -> bytes | None:
    listed = {line for line in data.decode("utf-8", "replace").splitlines() if line}
    if listed == _installed_files(package):
        return AGREES
    return "\n".join(sorted(listed)).encode() + b"\n"


def _conda_has_prefix(data: bytes, package: Package) -> bytes | None:
    import shlex

    lines = []
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            parts = shlex.split(line)
        except ValueError:
            parts = [line]
        if len(parts) == 3:
            parts[0] = "<build-prefix>"
        lines.append(" ".join(parts))
    return "\n".join(sorted(lines)).encode() + b"\n"


def _json_sets(data: bytes, package: Package) -> bytes | None:
    return _dumps(_sorted_lists(_json(data)))


# -- wheels (and dist-info folders inside conda packages) --------------------------------------


def _record(data: bytes, package: Package) -> bytes | None:
    import csv
    import io

    members = _member_digests(package)
    rows = []
    for row in csv.reader(io.StringIO(data.decode("utf-8", "replace"))):
        if not row:
            continue
        path, digest, size = [*row, "", "", ""][:3]
        rows.append((path, digest, size))
    if not rows:
        return data
    base = _dist_info_parent(package, rows)
    canonical = []
    for path, digest, size in rows:
        member = members.get(base + path) if base is not None else None
        agrees = (
            member is not None
            and digest.startswith("sha256=")
            and _record_digest(member.sha256) == digest.removeprefix("sha256=")
            and size == str(member.size)
        )
        canonical.append(f"{path},," if agrees else f"{path},{digest},{size}")
    return "\n".join(sorted(canonical)).encode() + b"\n"


def _dist_info_parent(package: Package, rows: list[tuple[str, str, str]]) -> str | None:
    """The folder RECORD's paths are relative to: the package root for a wheel, the
    ``site-packages`` folder that holds the dist-info folder in a conda package."""
    for entry in package.entries:
        if entry.path.endswith(".dist-info/RECORD"):
            parent = entry.path[: -len("RECORD")].rstrip("/").rsplit("/", 1)
            return parent[0] + "/" if len(parent) == 2 else ""
    return None


def _record_digest(hex_digest: str) -> str:
    import base64

    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).rstrip(b"=").decode()


def _wheel_file(data: bytes, package: Package) -> bytes | None:
    lines = [
        line
        for line in data.decode("utf-8", "replace").splitlines()
        if not line.lower().startswith("generator:")
    ]
    return "\n".join(lines).encode() + b"\n"


# -- matching ---------------------------------------------------------------------------------


def _exact(*paths: str) -> Callable[[str], bool]:
    wanted = frozenset(paths)
    return lambda path: path in wanted


def _under(*prefixes: str) -> Callable[[str], bool]:
    return lambda path: path.startswith(prefixes)


def _dist_info(leaf: str) -> Callable[[str], bool]:
    suffix = f".dist-info/{leaf}"
    return lambda path: path.endswith(suffix)


_PY_PATH = re.compile(r"^(?:lib/python\d+\.\d+t?/site-packages|Lib/site-packages)/")
_BYTECODE = re.compile(r"(?:^|/)__pycache__(?:/|$)|\.py[co]$")


def python_path(path: str) -> str:
    """``path`` with the Python-version part mapped: ``lib/python3.8/site-packages/x`` and
    ``Lib/site-packages/x`` are ``site-packages/x``; a noarch package's ``python-scripts/x``
    is ``bin/x`` (where conda installs it)."""
    if not path.startswith(("lib/", "Lib/", "python-scripts/")):
        return path
    mapped = _PY_PATH.sub("site-packages/", path, count=1)
    if mapped.startswith("python-scripts/"):
        return "bin/" + mapped.removeprefix("python-scripts/")
    return mapped


def bytecode(path: str) -> bool:
    """Whether ``path`` is byte code (``.pyc``, ``.pyo``, or in a ``__pycache__`` folder)."""
    if "__pycache__" not in path and not path.endswith((".pyc", ".pyo")):
        return False
    return _BYTECODE.search(path) is not None


_ENTRY_POINT = re.compile(
    rb"\A#![^\n]*\n+(?:# -\*- coding: utf-8 -\*-\n)?import re\nimport sys\n+"
    rb"from ([\w.]+) import ([\w.]+)\n+if __name__ == '__main__':\n"
    rb"    sys\.argv\[0\] = re\.sub\(r'\(-script\\\.pyw\?\|\\\.exe\)\?\$', '', sys\.argv\[0\]\)\n"
    rb"    sys\.exit\(\2\(\)\)\n?\Z"
)


def entry_point(data: bytes) -> str | None:
    """``module:function`` when ``data`` is an entry-point script as conda-build and pip write
    them, else None."""
    found = _ENTRY_POINT.match(data)
    if found is None:
        return None
    return f"{found.group(1).decode()}:{found.group(2).decode()}"


def identity(package: Package) -> str:
    """The name and version the package's own metadata gives (conda ``info/index.json``, a
    wheel's METADATA, an sdist's PKG-INFO), as ``name version``; empty when none does."""
    if package.format.conda:
        data = package.content("info/index.json")
        try:
            value = _json(data) if data is not None else None
        except ValueError:
            value = None
        if isinstance(value, dict):
            return f"{value.get('name', '')} {value.get('version', '')}".strip()
        return ""
    for path, data in package.kept:
        if path.endswith((".dist-info/METADATA", "PKG-INFO")) and path.count("/") <= 1:
            fields: dict[str, str] = {}
            end = data.find(b"\n\n")  # the headers end at the first empty line, or before
            head = data if end < 0 else data[:end]
            for line in head.decode("utf-8", "replace").splitlines():
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                fields.setdefault(key.strip().lower(), value.strip())
            name = re.sub(r"[-_.]+", "-", fields.get("name", "")).lower()
            return f"{name} {fields.get('version', '')}".strip()
    return ""


_PACKAGE_METADATA = tuple(
    f".dist-info/{leaf}" for leaf in ("WHEEL", "RECORD", "INSTALLER", "REQUESTED")
)


def _package_metadata(path: str) -> bool:
    return path.startswith("info/") or path.endswith(_PACKAGE_METADATA)


#: Every rule, canonical level first; within a level, the first that applies to a member wins.
RULES: tuple[Rule, ...] = (
    Rule(
        name="conda-index",
        version=1,
        level=Level.CANONICAL,
        touches="info/index.json: the build timestamp dropped, depends/constrains sorted",
        sets_aside=MemberClass.VOLATILE,
        category=Category.TIMESTAMP,
        formats=_CONDA,
        matches=_exact("info/index.json"),
        transform=_conda_index,
    ),
    Rule(
        name="conda-about",
        version=1,
        level=Level.CANONICAL,
        touches="info/about.json: the build tools' versions, channels, base environment "
        "(root_pkgs) and environment variables dropped",
        sets_aside=MemberClass.PROVENANCE,
        category=Category.CONTENT,
        formats=_CONDA,
        matches=_exact("info/about.json"),
        transform=_conda_about,
    ),
    Rule(
        name="conda-recipe",
        version=1,
        level=Level.CANONICAL,
        touches="info/recipe/ (the rendered recipe and build scripts) and info/recipe_log.txt "
        "dropped",
        sets_aside=MemberClass.PROVENANCE,
        category=Category.CONTENT,
        formats=_CONDA,
        matches=lambda path: path.startswith("info/recipe/") or path == "info/recipe_log.txt",
        transform=_drop,
    ),
    Rule(
        name="conda-build-inputs",
        version=1,
        level=Level.CANONICAL,
        touches="info/hash_input.json, info/hash_input_files and info/git (what the build "
        "string was hashed from, the recipe's git state) dropped",
        sets_aside=MemberClass.PROVENANCE,
        category=Category.CONTENT,
        formats=_CONDA,
        matches=_exact("info/hash_input.json", "info/hash_input_files", "info/git"),
        transform=_drop,
    ),
    Rule(
        name="conda-paths",
        version=1,
        level=Level.CANONICAL,
        touches="info/paths.json: entries sorted, sha256 and size dropped where they agree "
        "with the member, the build prefix replaced by a token",
        sets_aside=MemberClass.DERIVED,
        category=Category.METADATA_ORDER,
        formats=_CONDA,
        matches=_exact("info/paths.json"),
        transform=_conda_paths,
    ),
    Rule(
        name="conda-files",
        version=1,
        level=Level.CANONICAL,
        touches="info/files: a note when it lists exactly the package's files, else sorted",
        sets_aside=MemberClass.DERIVED,
        category=Category.METADATA_ORDER,
        formats=_CONDA,
        matches=_exact("info/files"),
        transform=_conda_files,
    ),
    Rule(
        name="conda-has-prefix",
        version=1,
        level=Level.CANONICAL,
        touches="info/has_prefix: the build prefix replaced by a token, lines sorted",
        sets_aside=MemberClass.VOLATILE,
        category=Category.CONTENT,
        formats=_CONDA,
        matches=_exact("info/has_prefix"),
        transform=_conda_has_prefix,
    ),
    Rule(
        name="json-sets",
        version=1,
        level=Level.CANONICAL,
        touches="set-like JSON lists sorted: info/test/test_time_dependencies.json, "
        "info/run_exports.json, info/link.json",
        sets_aside=MemberClass.VOLATILE,
        category=Category.METADATA_ORDER,
        formats=_CONDA,
        matches=_exact(
            "info/test/test_time_dependencies.json", "info/run_exports.json", "info/link.json"
        ),
        transform=_json_sets,
    ),
    Rule(
        name="conda-prefix",
        version=1,
        level=Level.CANONICAL,
        touches="files that hold the build prefix (as info/paths.json or info/has_prefix "
        "lists them): hashed with the prefix replaced by a token",
        sets_aside=MemberClass.VOLATILE,
        category=Category.CONTENT,
        formats=_CONDA,
        matches=lambda path: not path.startswith("info/"),
    ),
    Rule(
        name="record",
        version=1,
        level=Level.CANONICAL,
        touches="a dist-info RECORD: rows sorted, hash and size dropped where they agree with "
        "the member",
        sets_aside=MemberClass.DERIVED,
        category=Category.METADATA_ORDER,
        formats=_ALL,
        matches=_dist_info("RECORD"),
        transform=_record,
    ),
    Rule(
        name="wheel-generator",
        version=1,
        level=Level.CANONICAL,
        touches="a dist-info WHEEL file: the Generator line (the backend's name and version) "
        "dropped",
        sets_aside=MemberClass.PROVENANCE,
        category=Category.CONTENT,
        formats=_ALL,
        matches=_dist_info("WHEEL"),
        transform=_wheel_file,
    ),
    Rule(
        name="direct-url",
        version=1,
        level=Level.CANONICAL,
        touches="a dist-info direct_url.json (where pip installed from: a build path) dropped",
        sets_aside=MemberClass.PROVENANCE,
        category=Category.CONTENT,
        formats=_ALL,
        matches=_dist_info("direct_url.json"),
        transform=_drop,
    ),
    Rule(
        name="package-metadata",
        version=1,
        level=Level.PAYLOAD,
        touches="conda info/ and a dist-info's WHEEL, RECORD, INSTALLER and REQUESTED dropped; "
        "the package's name and version kept as the member '(identity)'",
        sets_aside=MemberClass.IDENTITY,
        category=Category.CONTENT,
        formats=_ALL,
        matches=_package_metadata,
    ),
    Rule(
        name="bytecode",
        version=1,
        level=Level.PAYLOAD,
        touches="byte code dropped: .pyc and .pyo files, __pycache__ folders",
        sets_aside=MemberClass.DERIVED,
        category=Category.CONTENT,
        formats=_ALL,
        matches=bytecode,
    ),
    Rule(
        name="python-path",
        version=1,
        level=Level.PAYLOAD,
        touches="lib/pythonX.Y/site-packages/ and Lib/site-packages/ read as site-packages/, "
        "a noarch package's python-scripts/ as bin/",
        sets_aside=MemberClass.IDENTITY,
        category=Category.CONTENT,
        formats=_ALL,
        matches=lambda path: python_path(path) != path,
    ),
    Rule(
        name="entry-points",
        version=1,
        level=Level.PAYLOAD,
        touches="generated entry-point scripts in bin/ read as 'module:function', as a noarch "
        "package's info/link.json lists them (conda writes those at install)",
        sets_aside=MemberClass.DERIVED,
        category=Category.CONTENT,
        formats=_CONDA,
        matches=lambda path: path.startswith(("bin/", "python-scripts/")),
    ),
)

#: The digest of every rule's name and version: part of every canonical and payload manifest.
RULES_DIGEST = sha256(
    "\n".join(f"{r.level.value} {r.name} {r.version}" for r in RULES).encode()
).hexdigest()


#: The content rules of each level, in the order they run.
_CONTENT_RULES = {
    level: tuple(r for r in RULES if r.level is level and r.transform is not None)
    for level in Level
}


@functools.lru_cache(maxsize=1 << 9)
def rule_for(path: str, fmt: PackageFormat, level: Level) -> Rule | None:
    """The first content rule of ``level`` that rewrites the member at ``path``. Kept for
    the paths seen last: the packages of one project share most of their paths."""
    for rule in _CONTENT_RULES[level]:
        if rule.applies(path, fmt):
            return rule
    return None


def keeps(path: str, size: int) -> bool:
    """Whether a member's bytes are kept when a package is read: the rules read them."""
    if path.startswith(("bin/", "python-scripts/")):
        return size <= SCRIPT_MAX
    if size > KEEP_MAX:
        return False
    if path.startswith("info/") or path.endswith("PKG-INFO"):
        return True
    return ".dist-info/" in path and path.rsplit("/", 1)[-1] in (
        "RECORD",
        "WHEEL",
        "METADATA",
        "direct_url.json",
        "INSTALLER",
    )


def classify(path: str, fmt: PackageFormat) -> MemberClass:
    """The class of a member whose difference no rule set aside."""
    if path == "(identity)":
        return MemberClass.IDENTITY
    if fmt.conda and path.startswith("info/"):
        if path in ("info/index.json", "info/run_exports.json", "info/link.json"):
            return MemberClass.IDENTITY
        if path in ("info/paths.json", "info/files", "info/has_prefix"):
            return MemberClass.DERIVED
        return MemberClass.PROVENANCE
    leaf = path.rsplit("/", 1)[-1]
    if ".dist-info/" in path or path.endswith("PKG-INFO"):
        if leaf in ("METADATA", "WHEEL", "PKG-INFO"):
            return MemberClass.IDENTITY
        if leaf == "RECORD":
            return MemberClass.DERIVED
        if leaf in ("direct_url.json", "INSTALLER", "REQUESTED"):
            return MemberClass.PROVENANCE
    if bytecode(path):
        return MemberClass.DERIVED
    return MemberClass.PAYLOAD
