"""The ``--attest DIR`` options of ``verify`` and ``graph``: checked before any work, then
each judged artifact's (or built output's) statements signed and written into DIR."""

from __future__ import annotations

import argparse
from pathlib import Path

from reprobuild.cli._checks import writable_folder
from reprobuild.cli._output import say

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.attest import Publisher, SigningKey
    from reprobuild.graph.schedule import GraphReport
    from reprobuild.rebuild import Verification

__all__ = [
    "add_attest_arguments",
    "attest_graph",
    "attest_verification",
    "signing_key_of",
]


def add_attest_arguments(parser: argparse.ArgumentParser, *, what: str) -> None:
    """``--attest DIR`` and ``--signing-key FILE``; ``what`` says what gets an attestation."""
    parser.add_argument(
        "--attest",
        type=Path,
        metavar="DIR",
        help=f"write a signed attestation of {what} into DIR, FILE.intoto.jsonl (DSSE "
        "envelopes of in-toto statements; see 'reprobuild attest verify')",
    )
    parser.add_argument(
        "--signing-key",
        type=Path,
        metavar="FILE",
        help="the Ed25519 private key to sign attestations with (default: signing.key in the "
        "folder 'reprobuild key generate' writes to)",
    )


def signing_key_of(args: argparse.Namespace) -> SigningKey | None:
    """The signing key, read and the ``--attest`` folder checked before any work; None
    without ``--attest``."""
    from reprobuild.errors import UsageError

    if args.attest is None:
        if args.signing_key is not None:
            raise UsageError("--signing-key signs attestations: give --attest DIR too")
        return None
    from reprobuild.attest import load_signing_key
    from reprobuild.cli.key import default_private_key

    path = args.signing_key if args.signing_key is not None else default_private_key()
    key = load_signing_key(path)
    writable_folder(
        args.attest,
        what="the attestation folder",
        hint="give a folder that can be created or written with --attest DIR",
    )
    return key


def attest_verification(
    folder: Path,
    verification: Verification,
    key: SigningKey,
    publishers: dict[str, Publisher],
) -> list[Path]:
    """Sign and write the attestations of every judged artifact of ``verification``."""
    from datetime import UTC, datetime

    from reprobuild.attest import sign_verification, write_attestation

    folder.mkdir(parents=True, exist_ok=True)
    signed = sign_verification(
        verification, key=key, verified_at=datetime.now(UTC), publishers=publishers
    )
    written = [write_attestation(folder, name, envelopes) for name, envelopes in signed.items()]
    for path in written:
        say(f"attestation written: {path}")
    return written


def attest_graph(folder: Path, report: GraphReport, key: SigningKey) -> list[Path]:
    """Sign and write one attestation per output of each step that was built or found (a
    seeded step's published wheel was not built: it gets none)."""
    from reprobuild.attest import graph_step_statement, sign_envelope, write_attestation

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for node in report.nodes:
        if node.key is None or node.status in (
            "failed",
            "skipped",
            "would-build",
            "waits",
            "seeded",
        ):
            continue
        for output, sha256 in node.outputs.items():
            statement = graph_step_statement(
                output=output,
                sha256=sha256,
                step=node.id,
                key=node.key,
                action=node.action,
                status=node.status,
                where=node.where,
            )
            written.append(write_attestation(folder, output, [sign_envelope(statement, key)]))
    for path in written:
        say(f"attestation written: {path}")
    return written
