"""Signed attestations of what reprobuild verified, failures included.

- :mod:`reprobuild.attest.statement` makes the in-toto statements: the SLSA Provenance v1 of
  a rebuild (``buildType`` :data:`REBUILD_TYPE`) and its SLSA Verification Summary v1
  (``PASSED`` or ``FAILED``, with reprobuild's verdict), or the provenance of a graph step;
- :mod:`reprobuild.attest.dsse` signs them in DSSE envelopes with an Ed25519 key from
  :mod:`reprobuild.attest.keys`; :mod:`reprobuild.attest.sign` writes one ``FILE.intoto.jsonl``
  per artifact;
- :func:`check_attestation` checks one against its file, a public key and a policy;
- :func:`read_publisher` reads who published a file from its PEP 740 publish attestation,
  verified through Sigstore.
"""

from __future__ import annotations

from reprobuild.attest.check import AttestPolicy, Checked, check_attestation
from reprobuild.attest.dsse import PAYLOAD_TYPE, open_envelope, pae, sign_envelope
from reprobuild.attest.keys import (
    PRIVATE_KEY_NAME,
    PUBLIC_KEY_NAME,
    KeyPair,
    PublicKey,
    SigningKey,
    generate_key_pair,
    key_id,
    load_public_key,
    load_signing_key,
)
from reprobuild.attest.publish import Publisher, find_publish_attestation, read_publisher
from reprobuild.attest.sign import (
    ATTESTATION_SUFFIX,
    attestation_name,
    sign_verification,
    write_attestation,
)
from reprobuild.attest.statement import (
    GRAPH_STEP_TYPE,
    REBUILD_TYPE,
    graph_step_statement,
    provenance_statement,
    summary_statement,
)

__all__ = [
    "ATTESTATION_SUFFIX",
    "GRAPH_STEP_TYPE",
    "PAYLOAD_TYPE",
    "PRIVATE_KEY_NAME",
    "PUBLIC_KEY_NAME",
    "REBUILD_TYPE",
    "AttestPolicy",
    "Checked",
    "KeyPair",
    "PublicKey",
    "Publisher",
    "SigningKey",
    "attestation_name",
    "check_attestation",
    "find_publish_attestation",
    "generate_key_pair",
    "graph_step_statement",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "open_envelope",
    "pae",
    "provenance_statement",
    "read_publisher",
    "sign_envelope",
    "sign_verification",
    "summary_statement",
    "write_attestation",
]
