"""``reprobuild results --format html -o DIR``: write the dashboard's site, whole or not at all.

The site is written into a new folder beside DIR, then renamed to DIR: a reader (or a web
server publishing DIR) sees the previous site or the new one, never half of one. DIR is
replaced only when it is a previous dashboard (it holds the :data:`MARKER` file) or an empty
folder; anything else is refused, so a mistyped path cannot wipe a folder.

Attestations are looked for beside the results database, in its folder's ``attestations/``
(or the folder ``--attestations`` names), as ``<artifact file name>.intoto.jsonl``; each one
found is copied into the site's ``attestations/`` and linked from its release's page.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from reprobuild.errors import UsageError

__all__ = ["ATTESTATIONS", "ATTESTATION_SUFFIX", "MARKER", "find_attestations", "write_site"]

#: The file that marks a folder as a dashboard reprobuild wrote (and may replace).
MARKER = ".reprobuild-dashboard"

#: The folder of attestations, beside the results database and in the site.
ATTESTATIONS = "attestations"

#: An artifact's attestation file is its file name with this suffix.
ATTESTATION_SUFFIX = ".intoto.jsonl"


def find_attestations(folder: Path, filenames: Iterable[str]) -> dict[str, Path]:
    """The attestation file in ``folder`` of each of ``filenames`` that has one. A file name
    that is not a plain name (a path separator, a leading dot, a NUL) is not looked for."""
    found: dict[str, Path] = {}
    if not folder.is_dir():
        return found
    for filename in set(filenames):
        plain = filename and not filename.startswith(".") and "/" not in filename
        if not plain or "\\" in filename or "\0" in filename:
            continue
        candidate = folder / f"{filename}{ATTESTATION_SUFFIX}"
        if candidate.is_file():
            found[filename] = candidate
    return found


def _check_target(target: Path) -> None:
    if not target.exists() and not target.is_symlink():
        return
    if target.is_symlink() or not target.is_dir():
        raise UsageError(
            "not a folder",
            path=str(target),
            hint="give -o a new folder, or one a previous 'results --format html' wrote",
        )
    if (target / MARKER).is_file() or not any(target.iterdir()):
        return
    raise UsageError(
        "a folder that is not a dashboard reprobuild wrote: it is left as it is",
        path=str(target),
        hint=f"give -o a new folder, or one holding the {MARKER} file a previous "
        "'results --format html' wrote",
    )


def write_site(target: Path, files: Mapping[str, str], copies: Mapping[str, Path]) -> None:
    """Write the site: ``files`` (relative path -> text) and ``copies`` (relative path -> a
    file to copy), into a new folder that then replaces ``target`` (see the module's
    docstring; :class:`~reprobuild.errors.UsageError` when ``target`` may not be replaced)."""
    _check_target(target)
    parent = target.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    except OSError as exc:
        raise UsageError(
            f"cannot write the site: {(exc.strerror or str(exc)).lower()}",
            path=str(target),
            hint="give -o a folder in a writable place",
        ) from exc
    old: Path | None = None
    try:
        staging.chmod(0o755)
        for relative, text in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for relative, source in copies.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, path)
        (staging / MARKER).write_text(
            "A dashboard written by 'reprobuild results --format html': the next one may "
            "replace this folder.\n",
            encoding="utf-8",
        )
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=parent))
            target.replace(old / "site")
        staging.replace(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and not target.exists():
            with contextlib.suppress(OSError):  # put the previous site back
                (old / "site").replace(target)
        raise UsageError(
            f"cannot write the site: {(exc.strerror or str(exc)).lower()}",
            path=str(target),
            hint="give -o a folder in a writable place",
        ) from exc
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
