"""Ed25519 keys for signing attestations: made, written, read, and named by a key id.

A key pair is two PEM files: the private key (PKCS #8, unencrypted, mode 0600) and the public
key (SubjectPublicKeyInfo). The key id is the one securesystemslib and in-toto compute for an
Ed25519 key: the sha256 of the canonical JSON of ``{"keytype": "ed25519", "keyval":
{"public": HEX}, "scheme": "ed25519"}``, ``HEX`` the raw 32-byte public key in hexadecimal;
an envelope's signature carries it, so the reference libraries match it to the key.

The cryptography is pyca/cryptography's (OpenSSL underneath); nothing here prints a private
key or lets one reach an error message.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from reprobuild._fs import sha256_hex
from reprobuild.errors import UsageError

__all__ = [
    "PRIVATE_KEY_NAME",
    "PUBLIC_KEY_NAME",
    "KeyPair",
    "PublicKey",
    "SigningKey",
    "generate_key_pair",
    "key_id",
    "load_public_key",
    "load_signing_key",
]

#: The file names ``reprobuild key generate`` writes in its folder.
PRIVATE_KEY_NAME = "signing.key"
PUBLIC_KEY_NAME = "signing.pub"


def key_id(public: Ed25519PublicKey) -> str:
    """The key id securesystemslib gives ``public`` (see the module's documentation)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    document = {"keytype": "ed25519", "keyval": {"public": raw.hex()}, "scheme": "ed25519"}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return sha256_hex(text.encode("ascii"))


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicKey:
    """An Ed25519 public key, with its key id."""

    key: Ed25519PublicKey
    keyid: str

    def verify(self, signature: bytes, data: bytes) -> bool:
        """Whether ``signature`` is this key's signature of ``data``."""
        try:
            self.key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def pem(self) -> bytes:
        return self.key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKey:
    """An Ed25519 private key, with its public key (its ``repr`` shows only the key id)."""

    key: Ed25519PrivateKey
    public: PublicKey

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)

    def __repr__(self) -> str:
        return f"SigningKey(keyid={self.public.keyid!r})"


def _public(key: Ed25519PublicKey) -> PublicKey:
    return PublicKey(key=key, keyid=key_id(key))


def _signing(key: Ed25519PrivateKey) -> SigningKey:
    return SigningKey(key=key, public=_public(key.public_key()))


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyPair:
    """Where a new key pair was written, and its public key."""

    private_path: Path
    public_path: Path
    public: PublicKey


def generate_key_pair(folder: Path) -> KeyPair:
    """Make a new Ed25519 key pair and write it into ``folder`` (made when missing, mode 0700):
    :data:`PRIVATE_KEY_NAME` with mode 0600 and :data:`PUBLIC_KEY_NAME`. Neither file is ever
    replaced: when either exists, nothing is written. Each file is written under a temporary
    name and linked into place, so that it appears whole or not at all."""
    private_path = folder / PRIVATE_KEY_NAME
    public_path = folder / PUBLIC_KEY_NAME
    for path in (private_path, public_path):
        if path.exists() or path.is_symlink():
            raise UsageError(
                "a key is already there: it is not replaced",
                path=str(path),
                hint="give another folder with --out, or remove the old key pair first",
            )
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"cannot create the folder: {exc.strerror}", path=str(folder)) from exc
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signing = _signing(key)
    _write_new(private_path, private, mode=0o600)
    try:
        _write_new(public_path, signing.public.pem(), mode=0o644)
    except BaseException:
        private_path.unlink()
        raise
    return KeyPair(private_path=private_path, public_path=public_path, public=signing.public)


def _write_new(path: Path, data: bytes, *, mode: int) -> None:
    """Write ``data`` to a new file at ``path`` with ``mode``, never over an existing one: a
    temporary file made with that mode (and never more) is linked to ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        raise UsageError(f"cannot write: {exc.strerror}", path=str(path)) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)  # the umask may have taken bits away, never added
            handle.write(data)
        os.link(tmp, path)  # fails when path exists: a key is never replaced
    except FileExistsError:
        raise UsageError("a key is already there: it is not replaced", path=str(path)) from None
    except OSError as exc:
        raise UsageError(f"cannot write: {exc.strerror}", path=str(path)) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(
            f"cannot read the {what}: {exc.strerror}",
            path=str(path),
            hint="make a key pair with 'reprobuild key generate'",
        ) from exc


def load_signing_key(path: Path) -> SigningKey:
    """Read an Ed25519 private key (PEM, PKCS #8, not encrypted) from ``path``."""
    data = _read(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:  # the reason never quotes the key
        raise UsageError(
            "not an unencrypted PEM private key",
            path=str(path),
            hint="give the signing.key that 'reprobuild key generate' wrote",
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError("not an Ed25519 private key", path=str(path))
    return _signing(key)


def load_public_key(path: Path) -> PublicKey:
    """Read an Ed25519 public key (PEM, SubjectPublicKeyInfo) from ``path``."""
    data = _read(path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise UsageError(
            "not a PEM public key",
            path=str(path),
            hint="give the signing.pub that 'reprobuild key generate' wrote",
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError("not an Ed25519 public key", path=str(path))
    return _public(key)
