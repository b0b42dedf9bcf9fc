"""``reprobuild key generate``: make the Ed25519 key pair attestations are signed with."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from reprobuild.cli._output import HelpFormatter, Subparsers, shown

__all__ = ["default_key_folder", "default_private_key", "register", "run"]

_DESCRIPTION = """\
Make a new Ed25519 key pair for signing attestations ('reprobuild verify --attest DIR'):
signing.key, the private key (PEM, PKCS #8, file mode 0600), and signing.pub, the public key
(PEM) to give to whoever checks the attestations ('reprobuild attest verify --key
signing.pub'). The private key is never printed; an existing key is never replaced.
"""

_EPILOG = """\
examples:
  reprobuild key generate                   # in the default folder
  reprobuild key generate --out keys/       # keys/signing.key and keys/signing.pub

The default folder is $REPROBUILD_KEY_DIR, else $XDG_CONFIG_HOME/reprobuild, else
~/.config/reprobuild; 'verify --attest' and 'graph --attest' sign with the key there unless
given --signing-key FILE.

exit codes: 0 written, 2 a key is already there or the folder cannot be written.
"""


def default_key_folder() -> Path:
    """``$REPROBUILD_KEY_DIR``, else ``$XDG_CONFIG_HOME/reprobuild`` (when absolute), else
    ``~/.config/reprobuild``."""
    if explicit := os.environ.get("REPROBUILD_KEY_DIR"):
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "reprobuild"
    return Path.home() / ".config" / "reprobuild"


def default_private_key() -> Path:
    from reprobuild.attest.keys import PRIVATE_KEY_NAME

    return default_key_folder() / PRIVATE_KEY_NAME


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "key",
        help="make the Ed25519 key pair attestations are signed with",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    actions = parser.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    generate: argparse.ArgumentParser = actions.add_parser(
        "generate",
        help="make a new key pair (signing.key, mode 0600, and signing.pub)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    generate.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="the folder to write the key pair in (made when missing; default: see below)",
    )
    generate.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from reprobuild.attest.keys import generate_key_pair

    folder = args.out if args.out is not None else default_key_folder()
    pair = generate_key_pair(folder)
    print(f"public key: {shown(str(pair.public_path))}")
    print(f"key id: {pair.public.keyid}")
    print(f"private key: {shown(str(pair.private_path))} (mode 0600: keep it to yourself)")
    return 0
