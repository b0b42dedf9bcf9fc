"""Sign a verification's statements and write them: one JSON-lines file per artifact.

``FILE.intoto.jsonl`` (``FILE`` the published file's name) holds one DSSE envelope a line:
the provenance of the rebuild, then the verification summary (its input attestation is the
first line's payload, by sha256). A graph step's output gets one line, its provenance.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from reprobuild._fs import sha256_hex, write_bytes_atomic
from reprobuild._types import JSONValue
from reprobuild.attest.dsse import sign_envelope
from reprobuild.attest.keys import SigningKey
from reprobuild.attest.publish import Publisher
from reprobuild.attest.statement import provenance_statement, summary_statement
from reprobuild.errors import UsageError
from reprobuild.rebuild import Verification

__all__ = [
    "ATTESTATION_SUFFIX",
    "attestation_name",
    "sign_verification",
    "write_attestation",
]

#: What an artifact's attestation file is named after it: ``FILE.intoto.jsonl``.
ATTESTATION_SUFFIX = ".intoto.jsonl"


def attestation_name(filename: str) -> str:
    """``FILE.intoto.jsonl`` for the artifact ``filename``; a name that is not a plain file
    name (a folder in it, a leading dot, a control character) is refused."""
    if (
        not filename
        or Path(filename).name != filename
        or filename.startswith(".")
        or "\\" in filename
        or any(ord(c) < 32 or ord(c) == 127 for c in filename)
    ):
        raise UsageError(f"not a plain file name to name an attestation after: {filename!r}")
    return filename + ATTESTATION_SUFFIX


def sign_verification(
    verification: Verification,
    *,
    key: SigningKey,
    verified_at: datetime,
    publishers: Mapping[str, Publisher] | None = None,
) -> dict[str, list[dict[str, JSONValue]]]:
    """The signed envelopes of every judged artifact of ``verification``, by file name: the
    provenance, then the verification summary. An artifact with no sha256 (a compiled wheel
    listed by the index without one, a checkout with no sdist to compare) is not attested:
    a statement needs its subject's digest. ``publishers`` are the publish attestations read
    for some files, by file name."""
    out: dict[str, list[dict[str, JSONValue]]] = {}
    for result in verification.results:
        if not result.sha256:
            continue
        provenance = sign_envelope(provenance_statement(verification, result), key)
        payload = base64.b64decode(str(provenance["payload"]))
        publisher = (publishers or {}).get(result.filename)
        summary = summary_statement(
            verification,
            result,
            verified_at=verified_at,
            provenance_digest=sha256_hex(payload),
            publisher=publisher.to_json() if publisher is not None else None,
        )
        out[result.filename] = [provenance, sign_envelope(summary, key)]
    return out


def write_attestation(
    folder: Path, filename: str, envelopes: Sequence[dict[str, JSONValue]]
) -> Path:
    """Write ``envelopes`` as ``folder/FILE.intoto.jsonl`` (one compact JSON object a line),
    atomically, replacing an older attestation of the same file; return its path."""
    path = folder / attestation_name(filename)
    text = "".join(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n" for e in envelopes)
    write_bytes_atomic(path, text.encode("utf-8"), mode=0o644)
    return path
