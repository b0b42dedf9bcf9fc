"""Ed25519 key pairs: written once, private key 0600, key ids as securesystemslib computes."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]

from reprobuild.attest import (
    generate_key_pair,
    key_id,
    load_public_key,
    load_signing_key,
)
from reprobuild.errors import UsageError


def test_a_key_pair_is_written_with_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    pair = generate_key_pair(tmp_path / "keys")
    assert stat.S_IMODE(pair.private_path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert pair.public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    signing = load_signing_key(pair.private_path)
    public = load_public_key(pair.public_path)
    assert signing.public.keyid == public.keyid == pair.public.keyid
    assert public.verify(signing.sign(b"data"), b"data")
    assert not public.verify(signing.sign(b"data"), b"other")
    assert "PRIVATE" not in repr(signing) and pair.public.keyid in repr(signing)
    assert not list((tmp_path / "keys").glob(".*"))  # no temporary file left


def test_an_existing_key_is_never_replaced(tmp_path: Path) -> None:
    pair = generate_key_pair(tmp_path)
    before = pair.private_path.read_bytes()
    with pytest.raises(UsageError, match="already there"):
        generate_key_pair(tmp_path)
    assert pair.private_path.read_bytes() == before
    pair.private_path.unlink()  # a public key alone is not replaced either
    with pytest.raises(UsageError, match="already there"):
        generate_key_pair(tmp_path)
    assert not pair.private_path.exists()


def test_the_key_id_is_securesystemslibs(tmp_path: Path) -> None:
    pair = generate_key_pair(tmp_path)
    public = load_public_key(pair.public_path)
    assert key_id(public.key) == SSlibKey.from_crypto(public.key).keyid


def test_keys_that_do_not_read_are_bad_input(tmp_path: Path) -> None:
    pair = generate_key_pair(tmp_path)
    with pytest.raises(UsageError, match="not an unencrypted PEM private key"):
        load_signing_key(pair.public_path)
    with pytest.raises(UsageError, match="not a PEM public key") as caught:
        load_public_key(pair.private_path)
    assert "PRIVATE" not in str(caught.value)
    with pytest.raises(UsageError, match="cannot read"):
        load_public_key(tmp_path / "missing.pub")
