"""Attestations of prepared verifications: what they state, and every check that can fail."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from reprobuild.attest import (
    REBUILD_TYPE,
    AttestPolicy,
    check_attestation,
    load_public_key,
    pae,
)
from reprobuild.attest.statement import PROVENANCE_TYPE, SUMMARY_TYPE
from reprobuild.errors import UsageError
from tests.attest.helpers import attested, key_pair
from tests.factories import make_wheel


def _statements(attestation: Path) -> list[dict[str, object]]:
    return [
        json.loads(base64.b64decode(json.loads(line)["payload"]))
        for line in attestation.read_text().splitlines()
    ]


def test_a_reproducible_rebuild_is_attested_and_passes(tmp_path: Path) -> None:
    key, public = key_pair(tmp_path / "keys")
    wheel, attestation = attested(tmp_path / "out", key)
    assert attestation.name == wheel.name + ".intoto.jsonl"
    provenance, summary = _statements(attestation)
    assert provenance["predicateType"] == PROVENANCE_TYPE
    assert summary["predicateType"] == SUMMARY_TYPE
    for statement in (provenance, summary):
        assert statement["_type"] == "https://in-toto.io/Statement/v1"
        assert statement["subject"] == [
            {
                "name": wheel.name,
                "digest": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()},
            }
        ]
    definition = provenance["predicate"]["buildDefinition"]  # type: ignore[index]
    assert definition["buildType"] == REBUILD_TYPE
    assert definition["externalParameters"]["recipe"]["evidence"]
    # the factory's wheel is in canonical form: normalizing the rebuild was fitted, not read
    (fitted,) = definition["internalParameters"]["fitted"]
    assert (fitted["field"], fitted["value"], fitted["tries"]) == ("normalized", "yes", 1)
    assert definition["externalParameters"]["recipe"]["fitted"] == [fitted]
    assert definition["internalParameters"]["sandbox"]["kind"] == "none"
    assert definition["resolvedDependencies"][0]["name"] == "demo-1.0.tar.gz"
    predicate = summary["predicate"]
    assert predicate["verificationResult"] == "PASSED"  # type: ignore[index]
    assert predicate["reprobuild"]["verdict"] == "reproducible"  # type: ignore[index]
    assert predicate["reprobuild"]["verdict_text"] == (  # type: ignore[index]
        "reproducible (with step: normalized to reprobuild's canonical form)"
    )
    checked = check_attestation(
        wheel, attestation, key=load_public_key(public), policy=AttestPolicy.REPRODUCIBLE
    )
    assert checked.ok, checked.problems
    assert checked.kinds == (PROVENANCE_TYPE, SUMMARY_TYPE)


def test_a_failed_rebuild_is_attested_as_failed(tmp_path: Path) -> None:
    key, public = key_pair(tmp_path / "keys")
    other = make_wheel(files={"demo/__init__.py": b"x = 2\n"})
    wheel, attestation = attested(tmp_path / "out", key, rebuilt=other)
    _, summary = _statements(attestation)
    predicate = summary["predicate"]
    assert predicate["verificationResult"] == "FAILED"  # type: ignore[index]
    assert predicate["verifiedLevels"] == ["FAILED"]  # type: ignore[index]
    assert predicate["reprobuild"]["verdict"] == "different"  # type: ignore[index]
    assert "content" in predicate["reprobuild"]["categories"]  # type: ignore[index]
    pub = load_public_key(public)
    assert check_attestation(wheel, attestation, key=pub, policy=AttestPolicy.ANY).ok
    missed = check_attestation(wheel, attestation, key=pub, policy=AttestPolicy.REPRODUCIBLE)
    (problem,) = missed.problems
    assert problem.startswith("policy reproducible: the verdict is different (FAILED)")


def test_a_build_failure_is_attested_too(tmp_path: Path) -> None:
    key, public = key_pair(tmp_path / "keys")
    wheel, attestation = attested(tmp_path / "out", key, error="the backend is missing")
    provenance, summary = _statements(attestation)
    assert summary["predicate"]["reprobuild"]["verdict"] == "build-failed"  # type: ignore[index]
    assert provenance["predicate"]["runDetails"]["byproducts"] == []  # type: ignore[index]
    checked = check_attestation(
        wheel, attestation, key=load_public_key(public), policy=AttestPolicy.EQUIVALENT
    )
    assert checked.problems == (
        "policy equivalent: the verdict is build-failed (FAILED): the backend is missing",
    )


def test_a_changed_envelope_fails(tmp_path: Path) -> None:
    key, public = key_pair(tmp_path / "keys")
    wheel, attestation = attested(tmp_path / "out", key)
    lines = attestation.read_text().splitlines()
    envelope = json.loads(lines[1])
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["verificationResult"] = "PASSED"
    statement["predicate"]["reprobuild"]["verdict"] = "reproducible"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    attestation.write_text(lines[0] + "\n" + json.dumps(envelope) + "\n")
    checked = check_attestation(
        wheel, attestation, key=load_public_key(public), policy=AttestPolicy.ANY
    )
    (problem,) = checked.problems
    assert problem.startswith("envelope 2: no signature verifies with key")


def test_another_key_fails(tmp_path: Path) -> None:
    key, _ = key_pair(tmp_path / "keys")
    _, other = key_pair(tmp_path / "other")
    wheel, attestation = attested(tmp_path / "out", key)
    checked = check_attestation(
        wheel, attestation, key=load_public_key(other), policy=AttestPolicy.ANY
    )
    assert len(checked.problems) == 2
    assert all("no signature verifies" in p for p in checked.problems)


def test_another_file_fails(tmp_path: Path) -> None:
    key, public = key_pair(tmp_path / "keys")
    wheel, attestation = attested(tmp_path / "out", key)
    data = bytearray(wheel.read_bytes())
    data[-1] ^= 1
    wheel.write_bytes(bytes(data))
    checked = check_attestation(
        wheel, attestation, key=load_public_key(public), policy=AttestPolicy.ANY
    )
    assert len(checked.problems) == 2
    assert "not this file" in checked.problems[0]


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    key, public = key_pair(tmp_path / "keys")
    wheel, attestation = attested(tmp_path / "out", key)
    attestation.unlink()
    with pytest.raises(UsageError, match="the attestation is not there"):
        check_attestation(wheel, attestation, key=load_public_key(public), policy=AttestPolicy.ANY)


def test_the_reference_libraries_verify_the_envelopes(tmp_path: Path) -> None:
    """securesystemslib verifies each DSSE envelope with the public key, under the key id the
    envelope names; in-toto reads it as its own envelope type, with the same PAE."""
    from in_toto.models.metadata import (  # type: ignore[import-untyped]
        Envelope as InTotoEnvelope,
    )
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]

    key, public = key_pair(tmp_path / "keys")
    _, attestation = attested(tmp_path / "out", key)
    reference = SSlibKey.from_crypto(load_public_key(public).key)
    for line in attestation.read_text().splitlines():
        envelope = Envelope.from_dict(json.loads(line))
        assert envelope.verify([reference], 1) == {reference.keyid: reference}
        assert envelope.pae() == pae(envelope.payload_type, envelope.payload)
        in_toto = InTotoEnvelope.from_dict(json.loads(line))
        in_toto.verify([reference], 1)
        statement = json.loads(in_toto.payload)
        assert statement["_type"] == "https://in-toto.io/Statement/v1"
    _, other = key_pair(tmp_path / "other")
    stranger = SSlibKey.from_crypto(load_public_key(other).key)
    from securesystemslib.exceptions import VerificationError

    with pytest.raises(VerificationError):
        Envelope.from_dict(json.loads(attestation.read_text().splitlines()[0])).verify(
            [stranger], 1
        )
