"""Keeping the rebuilt files of ``verify --keep DIR``, for inspection.

A verification builds in scratch folders it removes, and may build one artifact several times
(the hash seed search): :class:`KeepingRebuilder` puts every file each rebuild made in a
staging folder, named by its sha256, with the buildinfo record of the build that made it.
Once a verification is done, :func:`place_kept` copies out the very rebuild each verdict was
given on (the result's ``rebuilt_sha256``), under the name the build gave it: what is kept is
what was judged, never another try. Staging by digest lets worker processes share the folder.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from reprobuild._fs import atomic_write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.build import BuildResult, BuildSpec, Progress
    from reprobuild.rebuild.rebuilder import Rebuilder
    from reprobuild.rebuild.verify import Verification

__all__ = ["BUILDINFO_SUFFIX", "KeepingRebuilder", "place_kept"]

#: What a kept artifact's buildinfo record is named after: ``FILE.buildinfo.json``.
BUILDINFO_SUFFIX = ".buildinfo.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeepingRebuilder:
    """``rebuilder``, with every file it makes copied into ``staging`` as ``<sha256>``, and
    the build's record beside it as ``<sha256>.buildinfo.json``."""

    rebuilder: Rebuilder
    staging: Path

    def __call__(self, spec: BuildSpec, *, progress: Progress | None = None) -> BuildResult:
        result = self.rebuilder(spec, progress=progress)
        for path, output in zip(result.paths, result.outputs, strict=True):
            target = self.staging / output.sha256
            if not target.exists():
                _copy(path, target)
                _copy(result.buildinfo_path, target.with_name(target.name + BUILDINFO_SUFFIX))
        return result


def place_kept(verification: Verification, staging: Path, folder: Path) -> dict[str, Path]:
    """Copy the rebuild each result of ``verification`` was judged on from ``staging`` into
    ``folder``, under its own file name, with its record as ``FILE.buildinfo.json``; return
    where each judged file's rebuild went, by the published file's name."""
    kept = {}
    for result in verification.results:
        digest, name = result.rebuilt_sha256, result.rebuilt_filename
        if digest is None or name is None or Path(name).name != name:
            continue
        staged = staging / digest
        if not staged.is_file():
            continue
        folder.mkdir(parents=True, exist_ok=True)
        _copy(staged, folder / name)
        record = staged.with_name(digest + BUILDINFO_SUFFIX)
        if record.is_file():
            _copy(record, folder / (name + BUILDINFO_SUFFIX))
        kept[result.filename] = folder / name
    return kept


def _copy(source: Path, target: Path) -> None:
    """``source``'s bytes at ``target``, written whole or not at all."""
    with source.open("rb") as reader, atomic_write(target, mode=0o644) as writer:
        shutil.copyfileobj(reader, writer)
