"""The real conda packages of the shared test data, and small conda packages made here."""

from __future__ import annotations

import bz2
import io
import json
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path

import pytest

__all__ = ["conda_data", "make_conda"]

#: Where the shared data is, beside the repository, unless the environment says otherwise.
_DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "conda"


def conda_data() -> Path:
    """The folder of real conda packages (see its README); the test skips where it is not,
    except in CI, which must have it."""
    folder = Path(os.environ.get("REPROBUILD_CONDA_DATA", _DEFAULT))
    if (folder / "README.md").is_file():
        return folder
    reason = f"the shared conda packages are not at {folder} (set REPROBUILD_CONDA_DATA)"
    if os.environ.get("CI"):  # pragma: no cover - depends on the machine
        pytest.fail(f"CI must run the tests on real conda packages: {reason}")
    pytest.skip(reason)  # pragma: no cover


def make_conda(
    files: Mapping[str, bytes],
    *,
    name: str = "demo",
    version: str = "1.0",
    build: str = "py38_0",
    timestamp: int = 1_600_000_000_000,
    about: Mapping[str, object] | None = None,
    modes: Mapping[str, int] | None = None,
    mtime: int = 1_600_000_000,
    prefix: str | None = None,
    order: str = "info-first",
) -> bytes:
    """A ``.tar.bz2`` conda package holding ``files`` (installed paths) and the info/ files
    conda-build writes: index.json, paths.json, files, about.json. With ``prefix``, every file
    is listed as holding that build prefix (text mode)."""
    index = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "depends": ["python >=3.8,<3.9.0a0"],
        "subdir": "linux-64",
        "timestamp": timestamp,
    }
    paths = [
        {
            "_path": path,
            "path_type": "hardlink",
            "sha256": _sha(data),
            "size_in_bytes": len(data),
            **({"prefix_placeholder": prefix, "file_mode": "text"} if prefix else {}),
        }
        for path, data in sorted(files.items())
    ]
    info = {
        "info/index.json": json.dumps(index, indent=2).encode(),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}, indent=2).encode(),
        "info/files": "".join(f"{p}\n" for p in sorted(files)).encode(),
        "info/about.json": json.dumps(
            dict(about or {"conda_build_version": "3.21.4", "license": "MIT"})
        ).encode(),
    }
    members = (
        [*info.items(), *files.items()]
        if order == "info-first"
        else [*files.items(), *info.items()]
    )
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in members:
            entry = tarfile.TarInfo(path)
            entry.size = len(data)
            entry.mtime = mtime
            entry.mode = (modes or {}).get(path, 0o644)
            tar.addfile(entry, io.BytesIO(data))
    return bz2.compress(out.getvalue(), 9)


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
