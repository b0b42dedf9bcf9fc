"""Where a command keeps its cache and its results database, from ``--cache-dir`` and ``--db``."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["cache_dir_of", "results_db_of"]


def cache_dir_of(args: argparse.Namespace) -> Path:
    """``--cache-dir``, else the default one (:func:`reprobuild._fs.default_cache_dir`)."""
    from reprobuild._fs import default_cache_dir

    return Path(args.cache_dir) if args.cache_dir is not None else default_cache_dir()


def results_db_of(args: argparse.Namespace) -> Path:
    """``--db``, else the results database in the cache folder."""
    from reprobuild.rebuild.history import DB_NAME

    return Path(args.db) if args.db is not None else cache_dir_of(args) / DB_NAME
