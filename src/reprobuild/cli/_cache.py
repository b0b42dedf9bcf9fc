"""Where a command keeps its cache and its results database, from ``--cache-dir`` and ``--db``."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_cache_dir_argument", "cache_dir_of", "results_db_of"]


def add_cache_dir_argument(parser: argparse.ArgumentParser, *, holds: str) -> None:
    """The ``--cache-dir DIR`` option, its help saying what the cache ``holds`` and where it
    is by default (as :func:`reprobuild._fs.default_cache_dir` finds it)."""
    parser.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help=f"{holds} cached here (default: $REPROBUILD_CACHE_DIR, else "
        "$XDG_CACHE_HOME/reprobuild, else ~/.cache/reprobuild)",
    )


def cache_dir_of(args: argparse.Namespace) -> Path:
    """``--cache-dir``, else the default one (:func:`reprobuild._fs.default_cache_dir`)."""
    from reprobuild._fs import default_cache_dir

    return Path(args.cache_dir) if args.cache_dir is not None else default_cache_dir()


def results_db_of(args: argparse.Namespace) -> Path:
    """``--db``, else the results database in the cache folder."""
    from reprobuild.rebuild.history import DB_NAME

    return Path(args.db) if args.db is not None else cache_dir_of(args) / DB_NAME
