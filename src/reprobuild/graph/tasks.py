"""What an executor runs for one step of a graph: the step's action, found in the cache or
built in the sandbox. Everything here is picklable and module-level, so that a Dask worker on
another machine (sharing the cache folder or the remote cache) runs it the same way."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reprobuild.actions import Action, Caches, Performed, StepFailed, StepOutput, perform
from reprobuild.errors import ReprobuildError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    from reprobuild.cache.remote import RemoteCache
    from reprobuild.frontend import Sandbox
    from reprobuild.index.pages import IndexFile

__all__ = ["Job", "RemoteConfig", "claim_build_root", "run_job"]

#: How many builds may run at once on one machine, each in a build folder of its own.
MAX_SLOTS = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteConfig:
    """How to reach the remote cache (a client is made in each process that needs one)."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    read_only: bool = False

    def client(self) -> RemoteCache:
        from reprobuild.cache.remote import RemoteCache

        return RemoteCache(self.url, headers=self.headers, read_only=self.read_only)


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """One step to run: its action, what it is built from, and where the caches are.

    ``source`` is the project folder (an sdist step) or the digest of the sdist in the store (a
    wheel step); ``wheels`` the workspace wheels to offer to its build environment, by file name
    (digests in the store); ``pins`` the pinned lines of its static build requirements, as its
    key has them. A wheel step from an sdist of the index has that sdist as ``fetch``
    (downloaded when the store does not hold it) and ``no_index``: its environment comes from
    ``wheels`` alone. A ``seed`` step is the published wheel ``fetch``, downloaded and checked
    against the index's sha256."""

    kind: Literal["sdist", "wheel", "bundle", "seed"]
    action: Action
    cache_dir: Path
    project: Path | None = None
    sdist: tuple[str, str] | None = None  #: (file name, digest)
    wheels: Mapping[str, str] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    pins_text: str = ""
    exclude_newer: datetime | None = None
    source_date_epoch: int | None = None
    sandbox: Sandbox
    remote: RemoteConfig | None = None
    use_cache: bool = True
    fetch: IndexFile | None = None
    no_index: bool = False


def caches_of(job: Job) -> Caches:
    """The caches a job reads and writes: the local folder's, and the remote one if any."""
    remote = job.remote.client() if job.remote is not None else None
    return Caches.at(job.cache_dir / "store", remote=remote)


@contextlib.contextmanager
def claim_build_root() -> Iterator[Path]:
    """A build folder no other build on this machine is using: the first numbered one
    (``/tmp/reprobuild-build-graph-N``) whose claim this process can lock, held until the block
    ends. Builds at numbered folders may differ from builds at the one folder of
    ``reprobuild build`` in what they embed of their own path."""
    from reprobuild.build import BUILD_ROOT

    for slot in range(1, MAX_SLOTS + 1):
        root = BUILD_ROOT.with_name(f"{BUILD_ROOT.name}-graph-{slot}")
        claim = root.with_name(root.name + ".claim")
        fd = os.open(claim, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            yield root
        finally:
            os.close(fd)
        return
    raise ReprobuildError(f"more than {MAX_SLOTS} builds are running on this machine")


def run_job(job: Job) -> Performed:
    """The job's action, from the cache or built (see :func:`reprobuild.actions.perform`)."""
    caches = caches_of(job)
    if job.kind == "bundle":
        return perform(
            job.action, lambda out: _bundle(job, caches, out), caches, use_cache=job.use_cache
        )
    if job.kind == "seed":
        return perform(job.action, lambda out: _fetch(job, out), caches, use_cache=job.use_cache)
    return perform(
        job.action, lambda out: _build(job, caches, out), caches, use_cache=job.use_cache
    )


def _build(job: Job, caches: Caches, out: Path) -> StepOutput:
    from reprobuild.build import BuildSpec, build
    from reprobuild.frontend import parse_pins

    with claim_build_root() as root, tempfile.TemporaryDirectory(prefix="reprobuild-job-") as tmp:
        scratch = Path(tmp)
        links = scratch / "wheels"
        links.mkdir()
        for name, digest in job.wheels.items():
            caches.store.export(digest, links / name)
        if job.kind == "sdist":
            assert job.project is not None
            source = job.project
        else:
            assert job.sdist is not None
            source = scratch / job.sdist[0]
            if job.fetch is not None and not caches.store.has(job.sdist[1]):
                caches.store.put_file(_download(job), expect=job.sdist[1])
            caches.store.export(job.sdist[1], source)
        made = scratch / "out"
        pins = parse_pins(job.pins_text) if job.pins_text else ()
        spec = BuildSpec(
            source=source,
            outdir=made,
            cache_dir=job.cache_dir,
            exclude_newer=job.exclude_newer,
            source_date_epoch=job.source_date_epoch,
            sandbox=job.sandbox,
            build_root=root,
            find_links=(links,) if job.wheels else (),
            sdist_only=job.kind == "sdist",
            resolved={tuple(job.requires): pins} if pins else {},
            no_index=job.no_index,
        )
        log = scratch / "log.txt"
        with log.open("w", encoding="utf-8") as handle:

            def say(line: str) -> None:
                handle.write(line + "\n")

            try:
                result = build(spec, progress=say)
            except ReprobuildError as exc:
                handle.write(f"error: {exc}\n")
                raise StepFailed(str(exc), log=log, hint=exc.hint) from exc
        wanted = ".tar.gz" if job.kind == "sdist" else ".whl"
        files = [p for p in result.paths if p.name.endswith(wanted)]
        kept = []
        for path in files:
            target = out / path.name
            path.replace(target)
            kept.append(target)
        final_log = out.parent / "log.txt"
        log.replace(final_log)
        return StepOutput(files=tuple(kept), log=final_log)


def _download(job: Job) -> Path:
    """The job's file from the index, checked against the index's sha256."""
    from reprobuild.index import IndexClient

    assert job.fetch is not None
    try:
        return IndexClient(cache_dir=job.cache_dir).download(job.fetch)
    except ReprobuildError as exc:
        raise StepFailed(f"cannot download {job.fetch.filename}: {exc}", hint=exc.hint) from exc


def _fetch(job: Job, out: Path) -> StepOutput:
    """The published wheel of a seed step."""
    assert job.fetch is not None
    target = out / job.fetch.filename
    shutil.copyfile(_download(job), target)
    return StepOutput(files=(target,))


def _bundle(job: Job, caches: Caches, out: Path) -> StepOutput:
    """One uncompressed tar of the wheels, in name order, every header the same whatever the
    machine (time 0, owner 0, mode 0644)."""
    target = out / "bundle.tar"
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(job.wheels):
            path = caches.store.path_of(job.wheels[name])
            info = tarfile.TarInfo(name)
            info.size = path.stat().st_size
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    return StepOutput(files=(target,))
