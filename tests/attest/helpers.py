"""Prepared verifications (a rebuilder that writes prepared files, no build) and their
attestations, for the attestation tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reprobuild.attest import (
    SigningKey,
    generate_key_pair,
    load_signing_key,
    sign_verification,
    write_attestation,
)
from reprobuild.rebuild import Verification, verify_wheel
from tests.factories import make_sdist, make_wheel
from tests.rebuild.test_rebuilder import NO_SANDBOX, SDIST, WHEEL, PreparedRebuilder

__all__ = ["PEP740", "attested", "key_pair", "pep740_data", "verified"]

#: When the test was verified, as the summaries say.
VERIFIED_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def key_pair(folder: Path) -> tuple[SigningKey, Path]:
    """A new signing key in ``folder``, and the path of its public key."""
    pair = generate_key_pair(folder)
    return load_signing_key(pair.private_path), pair.public_path


def verified(folder: Path, *, rebuilt: bytes | None = None, error: str = "") -> Verification:
    """A verification of ``demo`` 1.0's wheel (written into ``folder``) whose rebuild is
    ``rebuilt`` (default: the published bytes), or fails with ``error``."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = make_wheel(files={"demo/__init__.py": b"x = 1\n"})
    (folder / WHEEL).write_bytes(wheel)
    (folder / SDIST).write_bytes(make_sdist())
    rebuilder = PreparedRebuilder({WHEEL: wheel if rebuilt is None else rebuilt}, error=error)
    result = verify_wheel(
        folder / WHEEL,
        folder / SDIST,
        name="demo",
        version="1.0",
        upload_time=None,
        cache_dir=folder / "cache",
        sandbox=NO_SANDBOX,
        rebuilder=rebuilder,
    )
    return Verification(
        name="demo",
        version="1.0",
        sdist=SDIST,
        results=(result,),
        sandbox=NO_SANDBOX.to_json(),
    )


def attested(
    folder: Path, key: SigningKey, *, rebuilt: bytes | None = None, error: str = ""
) -> tuple[Path, Path]:
    """The published wheel of :func:`verified` and its attestation beside it."""
    verification = verified(folder, rebuilt=rebuilt, error=error)
    signed = sign_verification(verification, key=key, verified_at=VERIFIED_AT)
    path = write_attestation(folder, WHEEL, signed[WHEEL])
    return folder / WHEEL, path


#: The PEP 740 test material: real publish attestations with the files they name.
PEP740 = Path(__file__).resolve().parents[3] / "shared" / "data" / "pep740"


def pep740_data() -> Path:
    """The folder of PEP 740 publish attestations (``$REPROBUILD_PEP740_DATA``, else beside
    the repository); the test is skipped where it is missing, except in CI."""
    folder = Path(os.environ.get("REPROBUILD_PEP740_DATA") or PEP740)
    if not (folder / "README.md").is_file():
        reason = f"no PEP 740 test data in {folder} (set REPROBUILD_PEP740_DATA)"
        if os.environ.get("CI"):  # pragma: no cover - depends on the machine
            pytest.fail(reason)
        pytest.skip(reason)  # pragma: no cover
    return folder
