"""Releases from the index and their build-requirement closure, each built from its sdist.

A release ``NAME==VERSION`` becomes a ``release`` step: its wheel, built from the sdist of
exactly that version that the index lists (downloaded, checked against the index's sha256, and
put in the store). Its ``[build-system] requires``, read from that sdist, are resolved as the
index was at the cut-off; every package of that resolution is built from its own sdist in the
same way, and so on down. A step's build environment is installed from the wheels the graph
built (``--no-index``), pinned by their sha256, so that its action key holds their digests: a
build requirement rebuilt bit for bit leaves the keys after it unchanged (early cutoff).

What a backend asks for at build time (``get_requires_for_build_*``) must be among the wheels
offered too. Two rules add them to a step's offered wheels, and so to the closure:

- a backend that lives in its own sdist (``backend-path``: flit_core, setuptools, hatchling's
  ``ouroboros``, poetry-core, pdm-backend, setuptools-scm) runs with the package's own modules,
  and hatchling asks for its runtime dependencies: a package with ``backend-path`` is offered
  its runtime dependencies (the resolution of ``NAME==VERSION``, less itself);
- setuptools' backend before 70.1 asks for ``wheel``: a package whose pinned setuptools is
  older is offered ``wheel``.

A package whose wheel cannot come from its sdist is a *seed*: its published wheel of that
version (the best one for the interpreter running reprobuild), downloaded and checked against
the index's sha256, is used in its place. That happens when it has no sdist, when its sdist's
build system cannot be read or its requirements do not resolve, when its build fails (at run
time, see :mod:`reprobuild.graph.schedule`), and to break a cycle: of the packages on a cycle
(a package needed, directly or not, to build itself), the one whose ``NAME==VERSION`` sorts
first is seeded, and cycles are looked for again until there are none. A backend in its own
sdist needs itself to build nothing, so it is never seeded for a cycle. A release asked for
is always built from its sdist (its dependents in the closure take its seed when it is one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reprobuild.errors import ProjectError, ReprobuildError, UsageError
from reprobuild.graph.plan import Node, Plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

    from reprobuild._types import JSONValue
    from reprobuild.actions import Caches
    from reprobuild.archive import Archive
    from reprobuild.frontend import BuildSystem
    from reprobuild.graph.tasks import RemoteConfig
    from reprobuild.index import IndexClient
    from reprobuild.index.pages import IndexFile

__all__ = [
    "SETUPTOOLS_WANTS_WHEEL_BEFORE",
    "load_release_list",
    "parse_release",
    "plan_releases",
    "release_environment",
]

#: setuptools' ``get_requires_for_build_wheel`` asked for ``wheel`` before this version.
SETUPTOOLS_WANTS_WHEEL_BEFORE = "70.1"


def parse_release(text: str) -> tuple[str, str]:
    """``NAME==VERSION`` as the normalized name and version; :class:`UsageError` otherwise."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    wrong = UsageError(
        f"not a release: {text!r}", hint="name a release as NAME==VERSION, e.g. six==1.17.0"
    )
    try:
        requirement = Requirement(text.strip())
    except InvalidRequirement:
        raise wrong from None
    specifiers = list(requirement.specifier)
    if (
        requirement.url
        or requirement.extras
        or requirement.marker
        or len(specifiers) != 1
        or specifiers[0].operator != "=="
        or "*" in specifiers[0].version
    ):
        raise wrong
    try:
        version = str(Version(specifiers[0].version))
    except InvalidVersion:
        raise wrong from None
    return canonicalize_name(requirement.name), version


def load_release_list(path: Path) -> tuple[str, ...]:
    """The releases of a file, one ``NAME==VERSION`` a line; ``#`` starts a comment."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the list of releases: {exc}", path=str(path)) from None
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            parse_release(line)
        except UsageError as exc:
            raise UsageError(
                f"line {number}: {exc.reason}", path=str(path), hint=exc.hint
            ) from None
        out.append(line)
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Package:
    """What the plan knows of one package at one version: its sdist and the wheel a seed would
    be; the ``NAME==VERSION`` of its static build requirements' resolution (``pins``) and of
    what its backend may ask for besides (``extras``); ``problem``: why it cannot be built."""

    name: str
    version: str
    sdist: IndexFile | None = None
    wheel: IndexFile | None = None
    requires: tuple[str, ...] = ()
    pins: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()
    problem: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def needs(self) -> tuple[str, ...]:
        return () if self.problem else tuple(dict.fromkeys((*self.pins, *self.extras)))


def plan_releases(
    releases: Sequence[str],
    *,
    exclude_newer: datetime | None,
    cache_dir: Path,
    client: IndexClient | None = None,
    python: Path | None = None,
    progress: Callable[[str], None] | None = None,
    remote: RemoteConfig | None = None,
) -> Plan:
    """The steps that build ``releases`` (``NAME==VERSION`` each) and their build-requirement
    closure from their sdists, as the index was at ``exclude_newer`` (None: as it is now),
    seeds where needed (see the module's description), in build order. Each sdist is kept in
    the store of ``cache_dir`` (``<cache_dir>/store``), and each resolution made with a cut-off
    in its action cache."""
    from reprobuild.actions import Caches

    wanted = sorted({f"{n}=={v}" for n, v in (parse_release(text) for text in releases)})
    # the plan and the resolutions are looked for in the remote cache too: a machine with an
    # empty cache folder reads what another one worked out, each entry checked like a build's
    client_of_remote = remote.client() if remote is not None else None
    caches = Caches.at(cache_dir / "store", remote=client_of_remote)
    if exclude_newer is None or client is not None:
        return _plan(wanted, caches, exclude_newer, cache_dir, client, python, progress)
    return _cached_plan(wanted, caches, exclude_newer, cache_dir, python, progress)


#: The version of the plan's JSON form in the cache: a change to how a plan is made changes it.
PLAN_VERSION = 1


def _cached_plan(
    wanted: Sequence[str],
    caches: Caches,
    exclude_newer: datetime,
    cache_dir: Path,
    python: Path | None,
    progress: Callable[[str], None] | None,
) -> Plan:
    """The plan of ``wanted`` as of ``exclude_newer``, made once and kept in the action cache:
    with a cut-off in the past, the same releases, index configuration and interpreter give
    the same closure (the index's files of that time, the same resolutions), so a run with
    nothing changed reads the plan instead of asking the index and reading every sdist again.
    A release yanked since is the one case where the kept plan and a new one would differ."""
    import json

    from reprobuild.actions import Action, StepOutput, interpreter_and_platform, perform
    from reprobuild.frontend import load_index_config

    interpreter, machine = interpreter_and_platform(python)
    listed: list[JSONValue] = [*wanted]
    action = Action(
        kind="plan",
        label="the closure of " + ", ".join(wanted)[:150],
        inputs={},
        settings={
            "plan_version": PLAN_VERSION,
            "releases": listed,
            "exclude_newer": exclude_newer.isoformat(),
            "index": repr(load_index_config(cache_dir)),
        },
        interpreter=interpreter,
        platform=machine,
        sandbox="none",
    )

    def step(out: Path) -> StepOutput:
        plan = _plan(wanted, caches, exclude_newer, cache_dir, None, python, progress)
        target = out / "plan.json"
        records = [_record(node) for node in plan.nodes]
        target.write_text(json.dumps(records, sort_keys=True), encoding="utf-8")
        return StepOutput(files=(target,))

    performed = perform(action, step, caches)
    if performed.origin == "local" and progress is not None:
        progress(f"the plan of {len(wanted)} releases as of {exclude_newer.date()}: from the cache")
    data = caches.store.read_bytes(performed.outputs["plan.json"])
    try:
        return Plan(nodes=tuple(_node(item) for item in json.loads(data)))
    except (ValueError, TypeError, KeyError) as exc:  # a cache entry that does not hold
        raise ReprobuildError(
            f"the graph's plan in the cache does not read back: {exc}",
            hint="run 'reprobuild cache verify', or give another --cache-dir",
        ) from exc


def _file_record(file: IndexFile | None) -> JSONValue:
    if file is None:
        return None
    return {
        "filename": file.filename,
        "url": file.url,
        "sha256": file.sha256,
        "size": file.size,
        "upload_time": file.upload_time.isoformat() if file.upload_time else None,
        "requires_python": file.requires_python,
        "yanked": file.yanked,
    }


def _file(record: object) -> IndexFile | None:
    from datetime import datetime

    from reprobuild.index.pages import IndexFile

    if record is None:
        return None
    if not isinstance(record, dict):
        raise TypeError("a file record is not an object")
    uploaded = record.get("upload_time")
    return IndexFile(
        filename=str(record["filename"]),
        url=str(record["url"]),
        sha256=None if record.get("sha256") is None else str(record["sha256"]),
        size=record.get("size") if isinstance(record.get("size"), int) else None,
        upload_time=datetime.fromisoformat(uploaded) if isinstance(uploaded, str) else None,
        requires_python=(
            None if record.get("requires_python") is None else str(record["requires_python"])
        ),
        yanked=bool(record.get("yanked")),
    )


def _record(node: Node) -> dict[str, JSONValue]:
    """All of a release or seed step, as JSON (:func:`_node` reads it back)."""
    return {
        "id": node.id,
        "kind": node.kind,
        "name": node.name,
        "deps": list(node.deps),
        "requires": list(node.requires),
        "version": node.version,
        "sdist_file": _file_record(node.sdist_file),
        "seed_file": _file_record(node.seed_file),
        "pins": list(node.pins),
        "reason": node.reason,
        "problem": node.problem,
    }


def _node(record: object) -> Node:
    if not isinstance(record, dict) or record.get("kind") not in ("release", "seed"):
        raise TypeError("a step of the plan is not a release or a seed")

    def strings(name: str) -> tuple[str, ...]:
        value = record.get(name)
        if not isinstance(value, list):
            raise TypeError(f"{name} is not a list")
        return tuple(str(v) for v in value)

    return Node(
        id=str(record["id"]),
        kind=record["kind"],
        name=str(record["name"]),
        deps=strings("deps"),
        requires=strings("requires"),
        version=str(record["version"]),
        sdist_file=_file(record.get("sdist_file")),
        seed_file=_file(record.get("seed_file")),
        pins=strings("pins"),
        reason=str(record.get("reason", "")),
        problem=str(record.get("problem", "")),
    )


def _plan(
    wanted: Sequence[str],
    caches: Caches,
    exclude_newer: datetime | None,
    cache_dir: Path,
    client: IndexClient | None,
    python: Path | None,
    progress: Callable[[str], None] | None,
) -> Plan:
    """The plan of ``wanted``, made by asking the index (see :func:`plan_releases`)."""
    from reprobuild.index import IndexClient

    say = progress or (lambda _line: None)
    index = client if client is not None else IndexClient(cache_dir=cache_dir)
    studied: dict[str, _Package] = {}
    queue = list(wanted)
    while queue:
        key = queue.pop(0)
        if key in studied:
            continue
        name, _, version = key.partition("==")
        package = _study(
            name,
            version,
            client=index,
            caches=caches,
            exclude_newer=exclude_newer,
            python=python,
        )
        say(
            f"{key}: "
            + (
                f"seed ({package.problem})"
                if package.problem
                else f"from its sdist, needs {', '.join(package.needs) or 'nothing'}"
            )
        )
        studied[key] = package
        queue += [k for k in package.needs if k not in studied]
    seeds = {key: p.problem for key, p in studied.items() if p.problem}
    while cycle := _first_cycle(studied, seeds):
        chosen = min(cycle[:-1])
        seeds[chosen] = "needed to build itself: " + " › ".join(cycle)
        say(f"{chosen}: seed ({seeds[chosen]})")
    return Plan(nodes=tuple(_nodes(wanted, studied, seeds)))


def _study(
    name: str,
    version: str,
    *,
    client: IndexClient,
    caches: Caches,
    exclude_newer: datetime | None,
    python: Path | None,
) -> _Package:
    from reprobuild.archive import load_archive
    from reprobuild.index import release_files

    files = release_files(client.project_files(name), name, version)
    wheel = _seed_wheel(files)
    sdists = [f for f in files if not f.filename.endswith(".whl") and f.sha256]
    if not sdists:
        return _Package(
            name=name, version=version, wheel=wheel, problem="it has no sdist on the index"
        )
    sdist = max(sdists, key=lambda f: (f.filename.endswith(".tar.gz"), f.filename))
    try:
        path = client.download(sdist)
        caches.store.put_file(path, expect=sdist.sha256)
        system = _build_system_of(load_archive(path, identical_duplicates=True), sdist.filename)
        pins = _resolved(system.requires, exclude_newer, caches, python, f"{name} {version}")
    except ReprobuildError as exc:
        return _Package(name=name, version=version, sdist=sdist, wheel=wheel, problem=exc.reason)
    extras: list[str] = []
    if system.backend_path:
        try:
            own = _resolved([f"{name}=={version}"], exclude_newer, caches, python, name)
        except ReprobuildError:
            own = ()  # its backend's requests then fail its build, and it falls back to a seed
        extras += [k for k in own if k.partition("==")[0] != name]
    setuptools = [k.partition("==")[2] for k in pins if k.startswith("setuptools==")]
    if system.build_backend.startswith("setuptools.") and setuptools:
        from packaging.version import Version

        if Version(setuptools[0]) < Version(SETUPTOOLS_WANTS_WHEEL_BEFORE):
            with contextlib.suppress(ReprobuildError):
                extras += _resolved(["wheel"], exclude_newer, caches, python, "wheel")
    return _Package(
        name=name,
        version=version,
        sdist=sdist,
        wheel=wheel,
        requires=system.requires,
        pins=pins,
        extras=tuple(k for k in dict.fromkeys(extras) if k not in pins),
    )


def _resolved(
    requirements: Sequence[str],
    exclude_newer: datetime | None,
    caches: Caches,
    python: Path | None,
    label: str,
) -> tuple[str, ...]:
    """``NAME==VERSION`` of each package the resolution of ``requirements`` pins."""
    from reprobuild.actions import resolve_cached
    from reprobuild.frontend import parse_pins

    if not requirements:
        return ()
    text = resolve_cached(
        requirements,
        exclude_newer=exclude_newer,
        caches=caches,
        python=python,
        label=f"{label} build requirements",
    )
    return tuple(f"{p.name}=={p.version}" for p in parse_pins(text))


def _build_system_of(sdist: Archive, filename: str) -> BuildSystem:
    """The build system of an sdist, read from the ``pyproject.toml`` at its top (setuptools'
    legacy backend for one with only a ``setup.py``), as a build of it would read it."""
    from reprobuild.archive.model import MemberKind
    from reprobuild.frontend import (
        LEGACY_BACKEND,
        LEGACY_REQUIRES,
        BuildSystem,
        parse_build_system,
    )

    top = {
        m.path.split("/", 1)[1]: m
        for m in sdist.members
        if m.kind is MemberKind.FILE and m.path.count("/") == 1
    }
    pyproject = top.get("pyproject.toml")
    if pyproject is not None:
        try:
            text = pyproject.data().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProjectError("pyproject.toml is not UTF-8 text", path=filename) from exc
        return parse_build_system(text, path=f"{filename} › {pyproject.path}")
    if "setup.py" in top:
        return BuildSystem(requires=LEGACY_REQUIRES, build_backend=LEGACY_BACKEND, legacy=True)
    raise ProjectError("the sdist has neither pyproject.toml nor setup.py", path=filename)


def _seed_wheel(files: Iterable[IndexFile]) -> IndexFile | None:
    """The published wheel among ``files`` that the interpreter running reprobuild prefers
    (its first supported tag), with a sha256; None when there is none."""
    from packaging.tags import sys_tags
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    rank = {tag: i for i, tag in enumerate(sys_tags())}
    best: tuple[int, str, IndexFile] | None = None
    for file in files:
        if not file.filename.endswith(".whl") or not file.sha256:
            continue
        try:
            tags = parse_wheel_filename(file.filename)[3]
        except InvalidWheelFilename:
            continue
        score = min((rank[t] for t in tags if t in rank), default=None)
        if score is not None and (best is None or (score, file.filename) < best[:2]):
            best = (score, file.filename, file)
    return best[2] if best else None


def _first_cycle(studied: Mapping[str, _Package], seeds: Mapping[str, str]) -> list[str]:
    """The first cycle a depth-first walk meets (packages and their needs in sorted order),
    as ``[a, b, ..., a]``; a seed needs nothing. Empty when there is none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def needs(key: str) -> list[str]:
        return [] if key in seeds else sorted(studied[key].needs)

    def visit(key: str) -> list[str]:
        state[key] = 1
        stack.append(key)
        for dep in needs(key):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        stack.pop()
        state[key] = 2
        return []

    for key in sorted(studied):
        if key not in state and (found := visit(key)):
            return found
    return []


def _nodes(
    wanted: Sequence[str], studied: Mapping[str, _Package], seeds: Mapping[str, str]
) -> list[Node]:
    """The steps, in build order: each release asked for and, depth first, what it needs."""
    out: list[Node] = []
    emitted: set[str] = set()

    def step_of(key: str) -> str:
        return f"{key}:seed" if key in seeds else f"{key}:wheel"

    def emit(key: str, *, asked: bool) -> None:
        package = studied[key]
        if key in seeds and not asked:
            node_id = f"{key}:seed"
            if node_id not in emitted:
                emitted.add(node_id)
                out.append(
                    Node(
                        id=node_id,
                        kind="seed",
                        name=package.name,
                        version=package.version,
                        seed_file=package.wheel,
                        reason=seeds[key],
                    )
                )
            return
        node_id = f"{key}:wheel"
        if node_id in emitted:
            return
        for dep in package.needs:
            emit(dep, asked=False)
        emitted.add(node_id)
        out.append(
            Node(
                id=node_id,
                kind="release",
                name=package.name,
                version=package.version,
                deps=tuple(step_of(dep) for dep in package.needs),
                requires=package.requires,
                sdist_file=package.sdist,
                seed_file=None if asked else package.wheel,
                pins=package.pins,
                problem=package.problem,
            )
        )

    for key in wanted:
        emit(key, asked=True)
    return out


def release_environment(
    node: Node, wheels: Mapping[str, tuple[str, str, str]]
) -> tuple[tuple[str, ...], str]:
    """For a release step whose deps have made ``wheels`` (step id -> ``NAME==VERSION``, file
    name, sha256): the lines of its action's environment (every wheel offered, by digest) and
    the pinned lines of its static build requirements (``pins``), by the same digests."""
    lines = []
    pinned = []
    for dep in node.deps:
        key, _, digest = wheels[dep]
        line = f"{key} --hash=sha256:{digest}"
        lines.append(line)
        if key in node.pins:
            pinned.append(line + "\n")
    return tuple(sorted(lines)), "".join(sorted(pinned))
