"""Build steps as keyed actions: what a step's output can depend on, hashed into its key; a
step run once and its result found again by that key, here or on a shared remote cache.

An :class:`Action` names everything that can change what a step writes: the digests of its
inputs (a source tree, an sdist, the wheels a bundle holds), the build settings, the
interpreter, the platform, the sandbox, the version of reprobuild's canonical form, and what is
installed in its build environment, by the digests of the files installed. Its key is computed
only once every input has resolved to the digest of an output (Nix's resolved derivations): a
dependency rebuilt bit for bit leaves its dependents' keys unchanged, and they are not run again
(early cutoff).

:func:`perform` looks the key up, in the local cache and then (when one is given) the remote
one, and runs the step only on a miss. A found entry is a claim, not a rebuild: every
:class:`Performed` says where its result came from.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reprobuild._fs import sha256_hex
from reprobuild.cache.actions import ActionCache, ActionResult, Output, Status, utc_now
from reprobuild.errors import ReprobuildError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Literal

    from reprobuild._types import JSONValue
    from reprobuild.cache.remote import RemoteCache
    from reprobuild.cache.store import BlobStore

__all__ = [
    "CANONICAL_VERSION",
    "Action",
    "Caches",
    "Performed",
    "StepFailed",
    "StepOutput",
    "perform",
    "resolve_cached",
]

#: The version of reprobuild's canonical form of an archive (what ``normalize`` writes): a
#: change to what normalization writes changes this, and every key with it.
CANONICAL_VERSION = "1"
#: The version of the key's own layout.
KEY_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One build step, by what its output can depend on.

    ``kind`` is the step (``sdist``: an sdist from a source tree; ``wheel``: a wheel from an
    sdist; ``bundle``: one archive of other artifacts); ``inputs`` the sha256 of each input by
    its role; ``environment`` what the build environment holds, one ``name==version`` line per
    package with the sha256 of the files it may have been installed from; ``settings`` the build
    settings (the recipe); ``label`` names the step for people and is not part of the key.
    """

    kind: str
    label: str
    inputs: Mapping[str, str]
    environment: tuple[str, ...] = ()
    settings: Mapping[str, JSONValue] = field(default_factory=dict)
    interpreter: str
    platform: str
    sandbox: str
    canonical_version: str = CANONICAL_VERSION

    def document(self) -> dict[str, JSONValue]:
        """What the key is the hash of (everything but the label), as JSON values."""
        environment: list[JSONValue] = [*sorted(self.environment)]
        return {
            "key_version": KEY_VERSION,
            "kind": self.kind,
            "inputs": dict(sorted(self.inputs.items())),
            "environment": environment,
            "settings": dict(self.settings),
            "interpreter": self.interpreter,
            "platform": self.platform,
            "sandbox": self.sandbox,
            "canonical_version": self.canonical_version,
        }

    @property
    def key(self) -> str:
        """The sha256 of :meth:`document` as canonical JSON (keys sorted, no spaces)."""
        text = json.dumps(self.document(), sort_keys=True, separators=(",", ":"))
        return sha256_hex(text.encode("utf-8"))


def changed_fields(old: Mapping[str, JSONValue], new: Mapping[str, JSONValue]) -> list[str]:
    """What differs between two :meth:`Action.document` values, one phrase each: an input by
    its role, a package of the environment by name, a setting by name, or a field."""
    out: list[str] = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += [f"{name}.{k}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        elif isinstance(a, list) and isinstance(b, list):
            names_a = {str(x).split("==")[0]: x for x in a}
            names_b = {str(x).split("==")[0]: x for x in b}
            keys = sorted(set(names_a) | set(names_b))
            out += [f"{name}: {k}" for k in keys if names_a.get(k) != names_b.get(k)]
        else:
            out.append(name)
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class StepOutput:
    """What a step wrote: its output files (their names are the outputs' names) and its log."""

    files: tuple[Path, ...]
    log: Path | None = None
    timings: Mapping[str, float] = field(default_factory=dict)


class StepFailed(ReprobuildError):
    """A step that ran and failed; ``log`` is its log, when it wrote one."""

    def __init__(self, message: str, *, log: Path | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.log = log


def _ignore(_message: str) -> None:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Caches:
    """The caches an action's result is looked for in and kept in: the local store and action
    cache, and, optionally, a remote cache (Bazel's HTTP protocol) read and, unless it is
    read-only, written."""

    store: BlobStore
    actions: ActionCache
    remote: RemoteCache | None = None
    #: the cache folder the store is in (``<cache-dir>``), for what is kept beside it
    folder: Path | None = None

    @classmethod
    def at(
        cls,
        root: Path,
        remote: RemoteCache | None = None,
        *,
        warn: Callable[[str], None] = _ignore,
    ) -> Caches:
        """The local caches in ``root`` (``<cache-dir>/store``, with its index kept up to
        date), with ``remote``; a local record that is rejected is told to ``warn``."""
        from reprobuild.cache import LocalCache

        local = LocalCache(
            root,
            on_reject=lambda r: warn(f"the cache's entry {r.key[:12]} is not used: {r.reason}"),
        )
        return cls(store=local.store, actions=local.actions, remote=remote, folder=root.parent)


@dataclass(frozen=True, slots=True, kw_only=True)
class Performed:
    """An action's result and where it came from: ``built`` (the step ran here), ``local``
    or ``remote`` (found in that cache: a claim, not a rebuild), or ``failed`` (the step ran
    and failed; ``error`` says why, ``result`` points at its log)."""

    key: str
    result: ActionResult
    origin: Literal["built", "local", "remote", "failed"]
    seconds: float
    error: str = ""

    @property
    def outputs(self) -> dict[str, str]:
        """The outputs' digests by name."""
        return {o.name: o.digest for o in self.result.outputs}

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "key": self.key,
            "origin": self.origin,
            "seconds": round(self.seconds, 3),
            "outputs": [
                {"name": o.name, "sha256": o.digest, "size": o.size} for o in self.result.outputs
            ],
            "where": self.result.where,
            "error": self.error or None,
        }


def lookup(
    action: Action, caches: Caches, *, warn: Callable[[str], None] = _ignore
) -> Performed | None:
    """The result of ``action`` from the local cache, else from the remote one (its blobs
    fetched into the local store and checked against their digests on the way), else None.
    A rejected local entry is reported by the local cache, a poisoned or malformed remote one
    to ``warn``; neither is used."""
    start = time.monotonic()
    key = action.key
    found = caches.actions.get(key)
    if found is not None and found.status is Status.SUCCEEDED:
        return Performed(key=key, result=found, origin="local", seconds=time.monotonic() - start)
    if caches.remote is None:
        return None
    from reprobuild.cache.actions import parse_action_result
    from reprobuild.errors import CacheError

    try:
        data = caches.remote.get_action(key)
        if data is None:
            return None
        remote = parse_action_result(data)
        if remote.status is not Status.SUCCEEDED:
            return None
        with tempfile.TemporaryDirectory(prefix="reprobuild-fetch-") as scratch:
            for digest in remote.digests:
                if caches.store.has(digest):
                    continue
                target = Path(scratch) / digest
                if not caches.remote.get_blob(digest, target):
                    warn(f"the remote cache's entry {key[:12]} points at a blob it does not hold")
                    return None
                caches.store.put_file(target, expect=digest)
    except CacheError as exc:  # a poisoned or malformed entry: said, and not used
        warn(f"the remote cache's entry {key[:12]} is not used: {exc}")
        return None
    caches.actions.put(key, remote)
    return Performed(key=key, result=remote, origin="remote", seconds=time.monotonic() - start)


def perform(
    action: Action,
    step: Callable[[Path], StepOutput],
    caches: Caches,
    *,
    use_cache: bool = True,
    where: str | None = None,
    warn: Callable[[str], None] = _ignore,
) -> Performed:
    """The result of ``action``: found by its key (unless ``use_cache`` is false), or made by
    ``step(folder)``, which writes its outputs in an empty ``folder``; kept in the local cache
    and, when there is one that may be written, the remote one. A step that raises
    :class:`StepFailed` gives a ``failed`` result (with its log kept), which is not cached."""
    if use_cache:
        found = lookup(action, caches, warn=warn)
        if found is not None:
            return found
    key = action.key
    start = time.monotonic()
    host = where or socket.gethostname()
    with tempfile.TemporaryDirectory(prefix="reprobuild-action-") as scratch:
        folder = Path(scratch) / "out"
        folder.mkdir()
        try:
            made = step(folder)
        except StepFailed as exc:
            log = caches.store.put_file(exc.log).digest if exc.log and exc.log.is_file() else None
            result = ActionResult(
                outputs=(),
                status=Status.FAILED,
                log_digest=log,
                timings={"total": time.monotonic() - start},
                where=host,
                created=utc_now(),
            )
            return Performed(
                key=key,
                result=result,
                origin="failed",
                seconds=time.monotonic() - start,
                error=str(exc),
            )
        outputs = []
        for path in made.files:
            blob = caches.store.put_file(path)
            outputs.append(Output(name=path.name, digest=blob.digest, size=blob.size))
        log_digest = (
            caches.store.put_file(made.log).digest if made.log and made.log.is_file() else None
        )
    seconds = time.monotonic() - start
    result = ActionResult(
        outputs=tuple(outputs),
        status=Status.SUCCEEDED,
        exit_code=0,
        log_digest=log_digest,
        timings={**{k: float(v) for k, v in made.timings.items()}, "total": seconds},
        where=host,
        created=utc_now(),
        extra={"kind": action.kind, "label": action.label[:200]},
    )
    caches.actions.put(key, result)
    if caches.remote is not None and not caches.remote.read_only:
        for digest in result.digests:
            caches.remote.put_blob(digest, caches.store.path_of(digest))
        caches.remote.put_action(key, result.to_json())
    return Performed(key=key, result=result, origin="built", seconds=seconds)


def export_outputs(performed: Performed, caches: Caches, folder: Path) -> list[Path]:
    """Copy ``performed``'s outputs out of the store into ``folder`` (each checked against
    its digest on the way), by their names."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for output in performed.result.outputs:
        target = folder / output.name
        caches.store.export(output.digest, target)
        paths.append(target)
    return paths


def copy_files(files: Sequence[Path], folder: Path) -> tuple[Path, ...]:
    """``files`` copied into ``folder`` (a step's outputs made elsewhere)."""
    out = []
    for path in files:
        target = folder / path.name
        shutil.copyfile(path, target)
        out.append(target)
    return tuple(out)


def interpreter_and_platform(python: Path | None = None) -> tuple[str, str]:
    """The interpreter an action's key names (``cpython-3.11.7``) and the platform
    (``linux-x86_64``)."""
    import platform
    import sys

    from reprobuild.frontend import find_interpreter

    interpreter = find_interpreter(python)
    return (
        f"{interpreter.implementation}-{interpreter.version}",
        f"{sys.platform}-{platform.machine()}",
    )


def resolve_cached(
    requirements: Sequence[str],
    *,
    exclude_newer: datetime | None,
    caches: Caches,
    offered: Mapping[str, str] | None = None,
    links: Path | None = None,
    python: Path | None = None,
    label: str = "build requirements",
    progress: Callable[[str], None] | None = None,
) -> str:
    """The pinned lines (``name==version --hash=sha256:...``) of ``requirements`` and all they
    need, as the index was at ``exclude_newer``, with the wheels ``offered`` (file name ->
    digest, the files in ``links``) beside it; ``progress`` is told when the index is asked.

    With a cut-off, the answer is kept in the cache as an action of its own (the same
    requirements, cut-off, index configuration, interpreter and offered wheels give the same
    pins) and found there the next time; without one, the index is asked every time. Raises
    :class:`~reprobuild.errors.BuildError` when the requirements do not resolve.
    """
    from reprobuild.frontend import load_index_config, render_pins, resolve_requirements

    wheels = dict(offered or {})
    interpreter, machine = interpreter_and_platform(python)
    wanted: list[JSONValue] = [*sorted(requirements)]
    action = Action(
        kind="resolve",
        label=label,
        inputs=wheels,
        settings={
            "requirements": wanted,
            "exclude_newer": exclude_newer.isoformat() if exclude_newer else None,
            "index": repr(load_index_config(caches.folder)),
        },
        interpreter=interpreter,
        platform=machine,
        sandbox="none",
    )

    def step(out: Path) -> StepOutput:
        if progress is not None:
            progress(f"resolving the {label}")
        pins = resolve_requirements(
            list(requirements),
            exclude_newer=exclude_newer,
            python=python,
            find_links=(links,) if wheels and links is not None else (),
        )
        target = out / "pins.txt"
        target.write_text(render_pins(pins), encoding="utf-8")
        return StepOutput(files=(target,))

    performed = perform(action, step, caches, use_cache=exclude_newer is not None)
    return caches.store.read_bytes(performed.outputs["pins.txt"]).decode("utf-8")
