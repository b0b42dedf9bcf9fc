"""Builds through the action cache: a :class:`~reprobuild.rebuild.rebuilder.Rebuilder` that
finds a build it has seen by its key, and keeps every build it runs.

A build of a :class:`~reprobuild.build.BuildSpec` is one action (see :mod:`reprobuild.actions`):
``build`` (the sdist, then the wheel, from a project folder) or ``wheel`` (the wheel from an
sdist file). Its key is the hash of:

- the input: the sdist's sha256 and file name, or the project folder's
  :func:`~reprobuild.build.tree_digest` with its git commit (and whether the checkout is dirty);
  the sha256 of every wheel offered beside the index;
- the settings: every field of the spec that can change what the build writes (the whole
  recipe, the build folder's path, the pins given, the sandbox's limits), the interpreter's
  version, the installer, and reprobuild's own version (the buildinfo record names it);
- the interpreter, the platform, the sandbox's mode and the canonical-form version;
- the build environment: the pins (``name==version --hash=sha256:...``) of the project's
  ``[build-system] requires``, read from the folder or from the sdist, with the spec's
  overrides, resolved as the index was at the spec's cut-off (:func:`~reprobuild.actions.
  resolve_cached`, so the resolution is cached too); or the pins the spec gives.

A spec with no cut-off resolves as of now. Its key then holds the pins the index gives now,
and a cached result is used only when every other requirement set it installed (requirements
its backend asked for while it ran) still resolves to the pins it installed; otherwise it is
built again. A spec whose requirements do not resolve without a build (a requirement with no
wheel), that offers wheels from more than one folder, or that may not use the index
(``no_index``: the wheels offered are all it installs from) is built without the cache.

A cached build's outputs are its artifacts, its buildinfo record (both byte for byte) and a
small JSON document holding the rest of its :class:`~reprobuild.build.BuildResult` (the
record, what the sandbox contained, the environments' pins), so that a found build gives the
same result as the one that was run. Every result says where it came from
(``BuildResult.action``): built here, or found in the local or the remote cache (a claim, not a
rebuild). An entry fetched from a remote cache is kept locally marked as such, and is used
again only by a rebuilder that trusts the remote cache.
"""

from __future__ import annotations

import json
import platform
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reprobuild._fs import sha256_file
from reprobuild.actions import (
    Action,
    Caches,
    Performed,
    StepOutput,
    export_outputs,
    interpreter_and_platform,
    lookup,
    perform,
    resolve_cached,
)
from reprobuild.build import BuildResult, BuildSpec, Progress, build, tree_digest
from reprobuild.buildinfo import BuildOutput
from reprobuild.errors import ReprobuildError
from reprobuild.frontend import (
    LEGACY_BACKEND,
    LEGACY_BACKEND_SINCE,
    LEGACY_REQUIRES,
    BuildSystem,
    PinnedRequirement,
    Sandbox,
    default_sandbox,
    find_uv,
    frontend_requires,
    git_commit_info,
    overridden,
    parse_build_system,
    parse_pins,
    read_build_system,
    render_pins,
    setup_py_system,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.rebuild.rebuilder import Rebuilder
    from reprobuild.report import JSONValue

__all__ = [
    "RESULT_NAME",
    "CachedRebuilder",
    "build_action",
    "build_settings",
    "static_requirements",
]

#: The name of the output that holds the rest of a build's result (not an artifact).
RESULT_NAME = "reprobuild-result.json"
#: The mark an entry fetched from a remote cache carries in the local cache.
_FETCHED = "fetched"


def _ignore(_message: str) -> None:
    pass


def build_settings(spec: BuildSpec, sandbox: Sandbox) -> dict[str, JSONValue]:
    """Every setting of ``spec`` that can change what its build writes (the artifacts or the
    buildinfo record), as JSON values; ``sandbox`` is the one the build runs in. Where the
    outputs go and where the cache is are not settings."""
    from reprobuild import __version__

    source = spec.source.resolve()
    pins: dict[str, JSONValue] = {
        kind: _lines(pinned) for kind, pinned in sorted(spec.pins.items())
    }
    resolved: dict[str, JSONValue] = {
        "\n".join(requirements): _lines(pinned)
        for requirements, pinned in sorted(spec.resolved.items())
    }
    return {
        "source_name": source.name if source.is_file() else None,
        "source_date_epoch": spec.source_date_epoch,
        "source_date_epoch_from": spec.source_date_epoch_from,
        "exclude_newer": spec.exclude_newer.isoformat() if spec.exclude_newer else None,
        "normalize": spec.normalize,
        "umask": spec.umask,
        "hash_seed": spec.hash_seed,
        "timezone": spec.timezone,
        "locale": spec.locale,
        "path": spec.path,
        "build_root": str(spec.build_root),
        "pins": pins,
        "overrides": list(spec.overrides),
        "export_source_date_epoch": spec.export_source_date_epoch,
        "sdist_times": spec.sdist_times,
        "steps": [step.describe() for step in spec.steps],
        "build_clock": spec.build_clock,
        "closing_clock": spec.closing_clock,
        "dist_info_clock": spec.dist_info_clock,
        "sdist_clock": spec.sdist_clock,
        "setup_py": spec.setup_py,
        "keep_egg_info": spec.keep_egg_info,
        "distutils_config": spec.distutils_config,
        "extra_env": dict(sorted(spec.extra_env.items())),
        "wrapper": list(spec.wrapper),
        "home_folder": spec.home_folder,
        "tmp_folder": spec.tmp_folder,
        "source_time_offset": spec.source_time_offset,
        "creation_order": spec.creation_order,
        "resolved": resolved,
        "sandbox": sandbox.to_json(),
        "hostname": spec.hostname,
        "building": list(spec.building),
        "sdist_only": spec.sdist_only,
        "wheel_only": spec.wheel_only,
        "config_settings": {
            key: value if isinstance(value, str) else _strings(value)
            for key, value in sorted(spec.config_settings.items())
        },
        "no_index": spec.no_index,
        # what the buildinfo record says of the program that wrote it
        "installer": "uv" if find_uv() is not None else "pip",
        "reprobuild": __version__,
        "reprobuild_python": f"{platform.python_implementation()}-{platform.python_version()}",
    }


def _strings(values: Sequence[str]) -> list[JSONValue]:
    return [*values]


def _lines(pinned: Sequence[PinnedRequirement]) -> list[JSONValue]:
    return [*render_pins(pinned).splitlines()]


def build_action(spec: BuildSpec, environment: Sequence[str], sandbox: Sandbox) -> Action:
    """The action of building ``spec`` in ``sandbox`` with a build environment of the pinned
    lines ``environment``: its inputs' digests, :func:`build_settings`, the interpreter and the
    platform."""
    source = spec.source.resolve()
    inputs: dict[str, str] = {}
    if source.is_file():
        kind = "wheel"
        inputs["sdist"] = sha256_file(source)
    else:
        kind = "build"
        inputs["source"] = tree_digest(source)
        commit = git_commit_info(source)
        if commit is not None:
            inputs["git_commit"] = commit.commit + (" dirty" if commit.dirty else "")
    for folder in spec.find_links:
        for wheel in sorted(Path(folder).glob("*.whl")):
            inputs[f"offered {wheel.name}"] = sha256_file(wheel)
    interpreter, machine = interpreter_and_platform(spec.python)
    return Action(
        kind=kind,
        label=f"{kind} of {source.name}",
        inputs=inputs,
        environment=tuple(environment),
        settings=build_settings(spec, sandbox),
        interpreter=interpreter,
        platform=machine,
        sandbox=sandbox.mode.value,
    )


def static_requirements(spec: BuildSpec) -> tuple[tuple[str, ...], BuildSystem]:
    """The ``[build-system] requires`` of ``spec``'s source (a project folder, or the
    ``pyproject.toml`` an sdist holds), as the build installs them: with setuptools' legacy
    backend when the spec says ``setup_py`` and the source is an sdist (its wheel is the only
    build), and each requirement named by an override replaced by it. Raises
    :class:`~reprobuild.errors.ReprobuildError` when the source does not read."""
    source = spec.source.resolve()
    system = read_build_system(source) if source.is_dir() else _sdist_build_system(source)
    if spec.setup_py and source.is_file() and not system.legacy:
        system = setup_py_system(system)
    requires = frontend_requires(system, spec.overrides)
    return tuple(overridden(requires, spec.overrides)), replace(system, requires=requires)


def _sdist_build_system(path: Path) -> BuildSystem:
    from reprobuild.archive import load_archive

    archive = load_archive(path, identical_duplicates=True)
    tops = {m.path.split("/", 1)[0] for m in archive.members}
    top = next(iter(tops)) if len(tops) == 1 else ""
    try:
        member = archive.member(f"{top}/pyproject.toml")
    except KeyError:
        return BuildSystem(requires=LEGACY_REQUIRES, build_backend=LEGACY_BACKEND, legacy=True)
    return parse_build_system(member.data().decode("utf-8"), path=f"{path.name}/pyproject.toml")


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedRebuilder:
    """A :class:`~reprobuild.rebuild.rebuilder.Rebuilder` that looks each build up in the
    caches ``caches()`` opens and runs ``rebuilder`` (the sandboxed build) only on a miss,
    keeping what it made in the local cache and, when one is given that may be written, the
    remote one. The caches are opened only once the source is known to read: a source the
    build refuses leaves the cache folder as it was.

    ``use_cache`` false builds every time (and still keeps the result). ``trust_remote`` lets a
    result come from the remote cache, or from a local entry fetched from it: without it the
    remote cache is only written, never read, so that a verdict rests on a rebuild or on this
    machine's own cache. A local or remote entry that does not match its digests is said to
    ``warn`` and not used."""

    caches: Callable[[], Caches]
    rebuilder: Rebuilder = build
    use_cache: bool = True
    trust_remote: bool = False
    warn: Callable[[str], None] = _ignore

    def __call__(self, spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult:
        say = progress or _ignore
        if _refused(spec):  # the build refuses it, before anything is looked up
            return self.rebuilder(spec, progress=progress)
        try:
            requirements, system = static_requirements(spec)
        except ReprobuildError:
            return self.rebuilder(spec, progress=progress)  # which says what is wrong
        if len(spec.find_links) > 1 or spec.no_index:
            return self.rebuilder(spec, progress=progress)
        sandbox = spec.sandbox if spec.sandbox is not None else default_sandbox()
        spec = replace(spec, sandbox=sandbox)
        caches = self.caches()
        action = self._action(spec, caches, requirements, system, say)
        if action is None:
            return self.rebuilder(spec, progress=progress)
        if not spec.pins and tuple(system.requires) not in spec.resolved:
            # the build installs the pins the key was made of, and does not resolve again
            pinned = parse_pins("\n".join(action.environment))
            spec = replace(spec, resolved={**spec.resolved, tuple(system.requires): pinned})
        if self.use_cache:
            found = self._lookup(action, spec, caches, say)
            if found is not None:
                return found
        made: list[BuildResult] = []

        def step(folder: Path) -> StepOutput:
            result = self.rebuilder(replace(spec, outdir=folder), progress=progress)
            made.append(result)
            record = folder / RESULT_NAME
            record.write_text(_dump_result(result), encoding="utf-8")
            return StepOutput(files=(*result.paths, result.buildinfo_path, record))

        performed = perform(action, step, caches, use_cache=False, warn=self.warn)
        return _export(performed, spec, caches, made[0])

    def _action(
        self,
        spec: BuildSpec,
        caches: Caches,
        requirements: Sequence[str],
        system: BuildSystem,
        say: Progress,
    ) -> Action | None:
        """The action of ``spec`` (whose sandbox is set), whose static requirements are
        ``requirements`` of ``system``; None when they do not resolve without a build."""
        assert spec.sandbox is not None
        sandbox = spec.sandbox
        if spec.pins:
            environment = tuple(
                f"{kind}: {line}"
                for kind, pinned in sorted(spec.pins.items())
                for line in render_pins(pinned).splitlines()
            )
            return build_action(spec, environment, sandbox)
        given = spec.resolved.get(tuple(system.requires))
        if given is not None:
            return build_action(spec, tuple(render_pins(given).splitlines()), sandbox)
        try:
            resolved = _resolve(spec, caches, requirements, system, say)
        except ReprobuildError as exc:
            say(f"not using the cache: the build requirements do not resolve alone ({exc})")
            return None
        return build_action(spec, tuple(line for line in resolved if line), sandbox)

    def _lookup(
        self, action: Action, spec: BuildSpec, caches: Caches, say: Progress
    ) -> BuildResult | None:
        """The build found in ``caches``, in ``spec.outdir``; None on a miss."""
        local = caches if self.trust_remote else replace(caches, remote=None)
        found = lookup(action, local, warn=self.warn)
        if found is None:
            return None
        fetched = found.result.extra.get(_FETCHED) == "remote"
        if found.origin == "remote":
            marked = {**found.result.extra, _FETCHED: "remote"}
            caches.actions.put(found.key, replace(found.result, extra=marked))
        elif fetched:
            if not self.trust_remote:
                say("not using the cache's entry: it was fetched from a remote cache")
                return None
            found = replace(found, origin="remote")
        try:
            kept = _load_result(caches.store.read_bytes(found.outputs[RESULT_NAME]))
            if spec.exclude_newer is None and not spec.pins:
                changed = _resolved_otherwise(spec, caches, kept.resolved, action.environment)
                if changed:
                    say(f"not using the cache's entry: {changed} resolves otherwise now")
                    return None
            result = _export(found, spec, caches, kept)
        except (ReprobuildError, KeyError, ValueError) as exc:
            self.warn(f"the cache's entry {found.key[:12]} is not used: {exc}")
            return None
        say(
            f"found in the cache: {', '.join(p.name for p in kept.paths)}, built "
            f"{found.result.created} on {found.result.where} (the {found.origin} cache's entry "
            f"{found.key[:12]})"
        )
        return result


def _resolved_otherwise(
    spec: BuildSpec,
    caches: Caches,
    resolved: Mapping[tuple[str, ...], tuple[PinnedRequirement, ...]],
    environment: Sequence[str],
) -> str:
    """The first requirement set of a kept build that the index resolves to other pins
    now (a build with no cut-off), or "". The sets the spec gives pins for are not
    resolved, nor one whose pins are ``environment`` (the key's: resolved just now)."""
    for requirements, pinned in sorted(resolved.items()):
        if requirements in spec.resolved or sorted(environment) == sorted(
            render_pins(pinned).splitlines()
        ):
            continue
        wanted = overridden(requirements, spec.overrides)
        try:
            text = resolve_cached(
                wanted,
                exclude_newer=None,
                caches=caches,
                python=spec.python,
                label=f"build requirements of {spec.source.name}",
            )
        except ReprobuildError:
            return " ".join(requirements)
        if parse_pins(text) != tuple(sorted(pinned, key=lambda p: p.name)):
            return " ".join(requirements)
    return ""


def _export(
    performed: Performed, spec: BuildSpec, caches: Caches, kept: BuildResult
) -> BuildResult:
    """``kept`` (a build's result) with its files copied out of the store into
    ``spec.outdir``, and where it came from."""
    with tempfile.TemporaryDirectory(prefix="reprobuild-export-") as scratch:
        files = {p.name: p for p in export_outputs(performed, caches, Path(scratch))}
        files.pop(RESULT_NAME, None)
        spec.outdir.mkdir(parents=True, exist_ok=True)
        for name, path in files.items():
            path.chmod(0o644)
            path.replace(spec.outdir / name)
    return replace(
        kept,
        paths=tuple(spec.outdir / p.name for p in kept.paths),
        buildinfo_path=spec.outdir / kept.buildinfo_path.name,
        action=performed,
    )


def _resolve(
    spec: BuildSpec,
    caches: Caches,
    requirements: Sequence[str],
    system: BuildSystem,
    say: Progress,
) -> list[str]:
    """The pinned lines of ``requirements`` (of ``system``) as the build resolves them: at
    the spec's cut-off, with the wheels of its find-links folder offered."""
    cutoff = spec.exclude_newer
    if system.legacy and cutoff is not None and cutoff < LEGACY_BACKEND_SINCE:
        cutoff = LEGACY_BACKEND_SINCE  # as the build resolves it
    links = spec.find_links[0] if spec.find_links else None
    offered = (
        {wheel.name: sha256_file(wheel) for wheel in sorted(links.glob("*.whl"))}
        if links is not None
        else {}
    )
    text = resolve_cached(
        requirements,
        exclude_newer=cutoff,
        caches=caches,
        offered=offered,
        links=links,
        python=spec.python,
        label=f"build requirements of {spec.source.name}",
        progress=say,
    )
    return text.splitlines()


def _refused(spec: BuildSpec) -> bool:
    """Whether the build refuses ``spec`` before it starts: a source that is missing, an output
    folder that is a file, both ``sdist_only`` and ``wheel_only``, or an sdist whose copy in
    the output folder would replace it."""
    source = spec.source.resolve()
    return (
        not source.exists()
        or (spec.outdir.exists() and not spec.outdir.is_dir())
        or (spec.sdist_only and spec.wheel_only)
        or (
            source.is_file()
            and not spec.wheel_only
            and (spec.outdir / source.name).resolve() == source
        )
    )


def _dump_result(result: BuildResult) -> str:
    """What a cached build keeps of its result besides its files."""
    doc: dict[str, JSONValue] = {
        "outputs": [
            {"filename": o.filename, "sha256": o.sha256, "size": o.size} for o in result.outputs
        ],
        "paths": [p.name for p in result.paths],
        "buildinfo_path": result.buildinfo_path.name,
        "buildinfo": result.buildinfo,
        "resolved": [
            {
                "requirements": list(requirements),
                "pins": [
                    {"name": p.name, "version": p.version, "hashes": list(p.hashes)} for p in pinned
                ],
            }
            for requirements, pinned in result.resolved.items()
        ],
        "contained": list(result.contained),
    }
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def _load_result(data: bytes) -> BuildResult:
    """The result :func:`_dump_result` kept, its paths relative (bare file names)."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or not isinstance(doc.get("buildinfo"), dict):
        raise ValueError("the kept build result is not a JSON object with a buildinfo record")
    return BuildResult(
        outputs=tuple(
            BuildOutput(filename=str(o["filename"]), sha256=str(o["sha256"]), size=int(o["size"]))
            for o in doc["outputs"]
        ),
        paths=tuple(Path(str(name)) for name in doc["paths"]),
        buildinfo_path=Path(str(doc["buildinfo_path"])),
        buildinfo=doc["buildinfo"],
        resolved={
            tuple(str(r) for r in entry["requirements"]): tuple(
                PinnedRequirement(
                    name=str(p["name"]),
                    version=str(p["version"]),
                    hashes=tuple(str(h) for h in p["hashes"]),
                )
                for p in entry["pins"]
            )
            for entry in doc["resolved"]
        },
        contained=tuple(str(said) for said in doc["contained"]),
    )
