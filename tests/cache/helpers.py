"""Helpers of the cache's tests: results to store, and blobs damaged on disk."""

from __future__ import annotations

from pathlib import Path

from reprobuild.cache import ActionResult, Blob, BlobStore, Output, Status


def blob_path(store: BlobStore, digest: str) -> Path:
    return store.root / "cas" / digest[:2] / digest


def flip_byte(store: BlobStore, digest: str, at: int = 0) -> Path:
    """Change one byte of a stored blob in place (same size), as a failing disk would."""
    path = blob_path(store, digest)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def result_of(
    *blobs: Blob, log: Blob | None = None, created: str = "2024-05-01T12:00:00Z"
) -> ActionResult:
    """A succeeded result whose outputs are ``blobs``, named out0, out1..."""
    return ActionResult(
        outputs=tuple(
            Output(name=f"out{i}", digest=b.digest, size=b.size) for i, b in enumerate(blobs)
        ),
        status=Status.SUCCEEDED,
        exit_code=0,
        log_digest=None if log is None else log.digest,
        timings={"build": 1.25},
        where="test-host",
        created=created,
        extra={"backend": "demo"},
    )


def key(n: int) -> str:
    """An action key: 64 hex digits made from ``n``."""
    return f"{n:064x}"
