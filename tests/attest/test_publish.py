"""PEP 740 publish attestations (real ones, with the files they name), read and verified
through pypi-attestations and sigstore with the trust root the sigstore package ships."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reprobuild.attest import find_publish_attestation, read_publisher
from reprobuild.errors import UsageError
from tests.attest.helpers import pep740_data

SDIST = "pypi_attestations-0.0.19.tar.gz"
WHEEL = "rfc8785-0.1.2-py3-none-any.whl"
COMMIT = "08802efe1f8e5fec4ad842d6b8ce97656092ee72"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("suffix", [".publish.attestation", ".provenance"])
def test_a_trusted_publishers_attestation_verifies_offline(suffix: str) -> None:
    data = pep740_data()
    publisher = read_publisher(
        data / (SDIST + suffix), artifact_name=SDIST, artifact_sha256=_digest(data / SDIST)
    )
    assert publisher.verified, publisher.problem
    assert publisher.repository == "https://github.com/trailofbits/pypi-attestations"
    assert publisher.workflow == (
        "https://github.com/trailofbits/pypi-attestations/.github/workflows/release.yml"
        "@refs/tags/v0.0.19"
    )
    assert publisher.commit == COMMIT
    assert publisher.issuer == "https://token.actions.githubusercontent.com"
    assert publisher.mismatches == ()
    if suffix == ".provenance":  # the publisher it names is the verification's policy
        assert publisher.publisher == "GitHub trailofbits/pypi-attestations"


def test_another_file_and_another_commit_are_mismatches() -> None:
    data = pep740_data()
    publisher = read_publisher(
        data / (SDIST + ".publish.attestation"),
        artifact_name=SDIST,
        artifact_sha256="0" * 64,
        commit="1" * 40,
    )
    assert publisher.verified  # the attestation itself holds: it is about another file
    assert publisher.mismatches == (
        f"the attestation is about sha256 {_digest(data / SDIST)}, the file's is {'0' * 64}",
        f"the checkout is commit {'1' * 40}, the publish workflow ran on {COMMIT}",
    )


def test_an_attestation_of_another_sigstore_instance_is_shown_unverified() -> None:
    """The wheel's attestation was signed on Sigstore's staging instance: against the
    production trust root it does not verify, and says why; against staging's it does."""
    data = pep740_data()
    path = data / (WHEEL + ".publish.attestation")
    digest = _digest(data / WHEEL)
    production = read_publisher(path, artifact_name=WHEEL, artifact_sha256=digest)
    assert not production.verified
    assert "certificate chain" in production.problem
    assert production.identity == "william@yossarian.net"  # its word, not verified
    staging = read_publisher(path, artifact_name=WHEEL, artifact_sha256=digest, staging=True)
    assert staging.verified, staging.problem
    assert staging.issuer == "https://github.com/login/oauth"


def test_a_publish_attestation_is_found_beside_its_file(tmp_path: Path) -> None:
    data = pep740_data()
    assert find_publish_attestation(data / SDIST) == data / (SDIST + ".provenance")
    assert find_publish_attestation(tmp_path / "x.whl") is None


def test_what_is_not_a_publish_attestation_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("{}")
    with pytest.raises(UsageError, match="not a publish attestation"):
        read_publisher(tmp_path / "a", artifact_name="a", artifact_sha256="0" * 64)
    (tmp_path / "b").write_text("not json")
    with pytest.raises(UsageError, match="not JSON"):
        read_publisher(tmp_path / "b", artifact_name="b", artifact_sha256="0" * 64)
