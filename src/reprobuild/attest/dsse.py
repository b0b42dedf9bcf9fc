"""DSSE envelopes (Dead Simple Signing Envelope, v1.0), as in-toto attestations use them.

An envelope is ``{"payload": BASE64, "payloadType": TYPE, "signatures": [{"keyid": ID,
"sig": BASE64}]}``; what is signed is the pre-authentication encoding (:func:`pae`) of the
payload type and the payload's bytes, never the JSON around them, so the envelope's
formatting does not matter and the payload cannot be read as another type.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from reprobuild._types import JSONValue
from reprobuild.attest.keys import PublicKey, SigningKey

__all__ = [
    "PAYLOAD_TYPE",
    "Opened",
    "open_envelope",
    "pae",
    "sign_envelope",
]

#: The payload type of an in-toto statement.
PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: ``DSSEv1 LEN(type) type LEN(body) body``, the
    lengths in decimal ASCII, the parts separated by one space."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


def sign_envelope(statement: dict[str, JSONValue], key: SigningKey) -> dict[str, JSONValue]:
    """``statement`` as canonical JSON (keys sorted, no spaces) in an envelope signed by
    ``key``."""
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [
            {"keyid": key.public.keyid, "sig": base64.b64encode(signature).decode("ascii")}
        ],
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Opened:
    """What opening an envelope gave: its statement, when a signature by the key verified;
    otherwise ``problem`` says why not."""

    statement: dict[str, JSONValue] | None
    payload: bytes = b""
    problem: str = ""


def _decode(text: JSONValue) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        try:  # the URL-safe alphabet is allowed too
            return base64.urlsafe_b64decode(text)
        except (binascii.Error, ValueError):
            return None


def open_envelope(line: str, key: PublicKey) -> Opened:
    """The statement in the envelope ``line`` (one JSON object), when ``key`` signed it: one
    of its signatures must verify with ``key`` over the PAE of its payload type and payload.
    A signature under another key id is tried too (a key id is a hint, not a proof), so a
    wrong key and a changed envelope both read as what they are: no valid signature."""
    try:
        envelope = json.loads(line)
    except ValueError as exc:
        return Opened(statement=None, problem=f"not a JSON envelope: {exc}")
    if not isinstance(envelope, dict):
        return Opened(statement=None, problem="not a DSSE envelope (not a JSON object)")
    payload = _decode(envelope.get("payload"))
    payload_type = envelope.get("payloadType")
    signatures = envelope.get("signatures")
    if payload is None or not isinstance(payload_type, str) or not isinstance(signatures, list):
        return Opened(
            statement=None,
            problem="not a DSSE envelope (payload, payloadType and signatures are needed)",
        )
    if payload_type != PAYLOAD_TYPE:
        return Opened(statement=None, problem=f"the payload type is {payload_type!r}, not in-toto")
    signed = pae(payload_type, payload)
    verified = False
    for entry in signatures:
        sig = _decode(entry.get("sig")) if isinstance(entry, dict) else None
        if sig is not None and key.verify(sig, signed):
            verified = True
            break
    if not verified:
        ids = sorted(
            str(e.get("keyid")) for e in signatures if isinstance(e, dict) and e.get("keyid")
        )
        named = "; it names key " + ", ".join(i[:16] for i in ids) if ids else ""
        return Opened(
            statement=None,
            problem=f"no signature verifies with key {key.keyid[:16]}{named} (a changed "
            "envelope, or another key)",
        )
    try:
        statement = json.loads(payload)
    except ValueError as exc:
        return Opened(statement=None, problem=f"the signed payload is not JSON: {exc}")
    if not isinstance(statement, dict):
        return Opened(statement=None, problem="the signed payload is not a JSON object")
    return Opened(statement=statement, payload=payload)
