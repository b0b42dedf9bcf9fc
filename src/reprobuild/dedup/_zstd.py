"""zstd: the standard library's ``compression.zstd`` from Python 3.14, its backport before."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 14):
    from compression import zstd
else:  # pragma: no cover - the one that runs depends on the Python
    from backports import zstd

__all__ = ["zstd"]
