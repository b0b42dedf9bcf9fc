"""Who published a file, from its PEP 740 publish attestation, checked through Sigstore.

A package index that supports PEP 740 keeps, for each file, attestations made when it was
published: a DSSE envelope with an in-toto statement (subject: the file's name and sha256;
predicate: PyPI's publish predicate), signed by a short-lived Sigstore certificate that names
the workflow that published it (source repository, commit, workflow, ref), with the
transparency log's inclusion proof. :func:`read_publisher` reads one (a single attestation, or
the index's provenance object with its attestation bundles and the publisher it names) through
``pypi-attestations`` and ``sigstore``:

- the signature, the certificate's chain to Fulcio's root and the transparency log's proof are
  verified against the Sigstore trust root shipped in the ``sigstore`` package (its production
  instance, or with ``staging`` its staging one), without reaching the network: a file
  published after that trust root was last rotated may not verify until ``sigstore`` is
  updated, and then it is shown as not verified, with the reason;
- a provenance object's publisher (a GitHub repository and workflow, say) is the verification
  policy: the certificate must name it; a single attestation names no publisher, and the
  certificate's identity is reported as it is;
- the statement's subject digest is compared with the file's, and the certificate's commit
  with the checkout's, when one is given: each difference is a mismatch.

The certificate's claims are read with ``pypi-attestations`` (its ``certificate_claims``) under
the extension OIDs ``sigstore`` names; nothing here parses a certificate by hand.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reprobuild._types import JSONValue
from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    from cryptography.x509 import Certificate, ObjectIdentifier

    class _SingleExtension(Protocol):
        """A sigstore policy of one certificate extension: it names the extension's OID."""

        oid: ObjectIdentifier


__all__ = ["PUBLISH_SUFFIXES", "Publisher", "find_publish_attestation", "read_publisher"]

#: The names a publish attestation of FILE is looked for under, beside FILE: the index's
#: provenance object, or one attestation.
PUBLISH_SUFFIXES = (".provenance", ".publish.attestation")


@dataclass(frozen=True, slots=True, kw_only=True)
class Publisher:
    """What a file's publish attestation says and what of it was verified.

    ``verified`` is True when the Sigstore bundle verified (signature, certificate chain,
    transparency log, and the provenance object's publisher when there was one); otherwise
    ``problem`` says why not, and the claims are the certificate's unverified word.
    ``mismatches`` name what does not agree with the file or the checkout.
    """

    attestation: str  #: the file it was read from
    subject_name: str
    subject_sha256: str
    repository: str | None = None  #: the source repository's URI
    workflow: str | None = None  #: the build signer: the workflow's URI at its ref
    commit: str | None = None  #: the source repository's commit
    ref: str | None = None
    issuer: str | None = None  #: the OIDC issuer that vouched for the identity
    identity: str | None = None  #: the certificate's subject alternative name
    publisher: str | None = None  #: the provenance object's publisher (kind and repository)
    verified: bool = False
    problem: str = ""
    mismatches: tuple[str, ...] = ()

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "attestation": self.attestation,
            "subject": {"name": self.subject_name, "sha256": self.subject_sha256},
            "repository": self.repository,
            "workflow": self.workflow,
            "commit": self.commit,
            "ref": self.ref,
            "issuer": self.issuer,
            "identity": self.identity,
            "publisher": self.publisher,
            "verified": self.verified,
            "problem": self.problem or None,
            "mismatches": list(self.mismatches),
        }


def find_publish_attestation(artifact: Path) -> Path | None:
    """The publish attestation kept beside ``artifact`` (``FILE.provenance`` or
    ``FILE.publish.attestation``), if there is one."""
    for suffix in PUBLISH_SUFFIXES:
        candidate = artifact.with_name(artifact.name + suffix)
        if candidate.is_file():
            return candidate
    return None


class _AnyIdentity:
    """A Sigstore verification policy that accepts every certificate identity: the
    certificate is still checked to chain to Fulcio, and what it names is reported."""

    def verify(self, cert: Certificate) -> None:
        return None


@contextlib.contextmanager
def _quiet_sigstore() -> Iterator[None]:
    """sigstore's loggers below errors while it runs: its notes ("offline mode") are not ours
    to print."""
    logger = logging.getLogger("sigstore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def read_publisher(
    path: Path,
    *,
    artifact_name: str,
    artifact_sha256: str,
    commit: str | None = None,
    staging: bool = False,
) -> Publisher:
    """Read the publish attestation at ``path`` for the file ``artifact_name`` whose sha256
    is ``artifact_sha256`` and verify it (see the module's documentation); ``commit`` is the
    checkout's commit, when one is given; ``staging`` verifies against Sigstore's staging
    instance instead of its production one (for test material).

    A file that is not a publish attestation is bad input (:class:`UsageError`); one that does
    not verify gives a :class:`Publisher` that says why.
    """
    # pydantic, sigstore and their models take a few hundred milliseconds to import: only a
    # verification with a publish attestation pays for them
    from pydantic import ValidationError
    from pypi_attestations import (
        Attestation,
        AttestationError,
        Distribution,
        Provenance,
    )
    from sigstore.verify.policy import (
        OIDCBuildSignerURI,
        OIDCIssuerV2,
        OIDCSourceRepositoryDigest,
        OIDCSourceRepositoryRef,
        OIDCSourceRepositoryURI,
    )

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    hint = "give a PEP 740 publish attestation (FILE.publish.attestation) or provenance object"
    attestation = None
    publisher = None
    try:
        document = json.loads(data)
    except ValueError as exc:
        raise UsageError(f"not JSON: {exc}", path=str(path), hint=hint) from exc
    try:
        if isinstance(document, dict) and "attestation_bundles" in document:
            provenance = Provenance.model_validate(document)
            bundles = [b for b in provenance.attestation_bundles if b.attestations]
            if not bundles:
                raise UsageError("the provenance holds no attestation", path=str(path))
            attestation = bundles[0].attestations[0]
            publisher = bundles[0].publisher
        else:
            attestation = Attestation.model_validate(document)
        statement = attestation.statement
        subjects = statement.get("subject") if isinstance(statement, dict) else None
        subject = subjects[0] if isinstance(subjects, list) and len(subjects) == 1 else None
        name = subject.get("name") if isinstance(subject, dict) else None
        digests = subject.get("digest") if isinstance(subject, dict) else None
        digest = digests.get("sha256") if isinstance(digests, dict) else None
    except (ValidationError, AttestationError, ValueError) as exc:
        raise UsageError(
            f"not a publish attestation: {str(exc).splitlines()[0]}", path=str(path), hint=hint
        ) from exc
    if not isinstance(name, str) or not isinstance(digest, str):
        raise UsageError(
            "the attestation's statement has no single subject with a sha256",
            path=str(path),
            hint=hint,
        )

    claims = attestation.certificate_claims
    identity = None
    with contextlib.suppress(Exception):  # a certificate without a SAN names no identity
        from cryptography import x509

        san = attestation.to_bundle().signing_certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
        names = [str(v) for v in san.value.get_values_for_type(x509.UniformResourceIdentifier)]
        names += [str(v) for v in san.value.get_values_for_type(x509.RFC822Name)]
        identity = names[0] if names else None
    verified = False
    problem = ""
    policy = publisher._as_policy() if publisher is not None else _AnyIdentity()
    try:
        with _quiet_sigstore():
            attestation.verify(
                policy,
                Distribution(name=name, digest=digest),
                staging=staging,
                offline=True,
            )
        verified = True
    except (AttestationError, ValueError) as exc:
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    except Exception as exc:  # the trust root cannot be loaded here, say
        problem = f"{type(exc).__name__}: {exc}".splitlines()[0]

    def claim(policy_class: type[_SingleExtension]) -> str | None:
        """The certificate's claim under the extension OID ``policy_class`` checks."""
        return claims.get(policy_class.oid.dotted_string)

    found_commit = claim(OIDCSourceRepositoryDigest)
    mismatches = []
    if digest != artifact_sha256:
        mismatches.append(
            f"the attestation is about sha256 {digest}, the file's is {artifact_sha256}"
        )
    if name != artifact_name:
        mismatches.append(f"the attestation is about {name}, not {artifact_name}")
    if commit is not None and found_commit is not None and found_commit != commit:
        mismatches.append(
            f"the checkout is commit {commit}, the publish workflow ran on {found_commit}"
        )
    described = None
    if publisher is not None:
        repository = getattr(publisher, "repository", None)
        described = f"{publisher.kind} {repository}" if repository else str(publisher.kind)
    return Publisher(
        attestation=str(path),
        subject_name=name,
        subject_sha256=digest,
        repository=claim(OIDCSourceRepositoryURI),
        workflow=claim(OIDCBuildSignerURI),
        commit=found_commit,
        ref=claim(OIDCSourceRepositoryRef),
        issuer=claim(OIDCIssuerV2),
        identity=identity,
        publisher=described,
        verified=verified,
        problem=problem,
        mismatches=tuple(mismatches),
    )
