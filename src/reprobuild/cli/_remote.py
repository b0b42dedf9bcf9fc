"""The remote cache's options (``--remote-cache``, ``--remote-read-only``, ``--remote-header``)
and the caches a command's builds go through, for the commands that use the action cache."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.actions import Caches
    from reprobuild.cache.remote import RemoteCache

__all__ = ["add_remote_arguments", "caches_of", "remote_cache_of", "remote_headers"]

#: The variable a remote header is read from when none is given on the command line.
HEADER_VARIABLE = "REPROBUILD_REMOTE_HEADER"


def add_remote_arguments(parser: argparse.ArgumentParser, *, use: str) -> None:
    """``--remote-cache URL`` (its help saying what the command does with it: ``use``),
    ``--remote-read-only`` and ``--remote-header NAME=VALUE``."""
    parser.add_argument("--remote-cache", metavar="URL", help=use)
    parser.add_argument(
        "--remote-read-only",
        action="store_true",
        help="only read from the remote cache (what CI shares, developers read)",
    )
    parser.add_argument(
        "--remote-header",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a header sent to the remote cache (e.g. Authorization=Bearer ...; may repeat). "
        f"${HEADER_VARIABLE} is used when none is given, so that a token stays out of "
        "the command line",
    )


def remote_headers(args: argparse.Namespace) -> dict[str, str]:
    """The headers ``--remote-header`` gives (else ``$REPROBUILD_REMOTE_HEADER``), by name;
    :class:`UsageError` for one that is not ``NAME=VALUE``."""
    given = list(args.remote_header)
    if not given and os.environ.get(HEADER_VARIABLE):
        given = [os.environ[HEADER_VARIABLE]]
    out = {}
    for text in given:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise UsageError(
                "a remote header is NAME=VALUE",
                hint="e.g. --remote-header 'Authorization=Bearer TOKEN'",
            )
        out[name.strip()] = value.strip()
    return out


def check_remote_arguments(args: argparse.Namespace) -> None:
    """Refuse the remote cache's options without ``--remote-cache``, and a bad header."""
    if args.remote_read_only and not args.remote_cache:
        raise UsageError("--remote-read-only needs --remote-cache URL")
    if args.remote_header and not args.remote_cache:
        raise UsageError("--remote-header needs --remote-cache URL")
    if args.remote_cache:
        remote_headers(args)


def remote_cache_of(args: argparse.Namespace) -> RemoteCache | None:
    """The client of ``--remote-cache``, or None when none is given."""
    if not args.remote_cache:
        return None
    from reprobuild.cache.remote import RemoteCache

    return RemoteCache(
        args.remote_cache, headers=remote_headers(args), read_only=args.remote_read_only
    )


def caches_of(args: argparse.Namespace, cache_dir: Path, *, warn: Callable[[str], None]) -> Caches:
    """The local caches in the cache folder's ``store`` (those of ``reprobuild graph``), with
    the remote cache of ``args``; a rejected entry is told to ``warn``."""
    from reprobuild.actions import Caches

    return Caches.at(cache_dir / "store", remote=remote_cache_of(args), warn=warn)
