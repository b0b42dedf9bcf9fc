"""Check an artifact's attestation: the signatures, the subject's digest, and a policy.

:func:`check_attestation` reads ``FILE.intoto.jsonl`` and, line by line, checks that the
envelope is signed by the key given, that its statement is an in-toto Statement v1 whose
subject names the file with the file's sha256, then that the verification summary belongs to
the provenance before it (its input attestation is that payload's sha256), and finally the
:class:`AttestPolicy`. Each failed check is a problem, in words; none means the attestation
holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from reprobuild._fs import sha256_file, sha256_hex
from reprobuild._types import JSONValue
from reprobuild.attest.dsse import open_envelope
from reprobuild.attest.keys import PublicKey
from reprobuild.attest.statement import PROVENANCE_TYPE, STATEMENT_TYPE, SUMMARY_TYPE
from reprobuild.errors import UsageError

__all__ = ["AttestPolicy", "Checked", "check_attestation"]


class AttestPolicy(enum.Enum):
    """What a verification summary must say for an attestation to pass."""

    #: the rebuild is the published file, byte for byte (``PASSED``)
    REPRODUCIBLE = "reproducible"
    #: ... or the same once both are normalized (inconsequential differences only)
    EQUIVALENT = "equivalent"
    #: any verdict, failures too: only the signatures and the subject are checked
    ANY = "any"


_ACCEPTED = {
    AttestPolicy.REPRODUCIBLE: ("reproducible",),
    AttestPolicy.EQUIVALENT: ("reproducible", "equivalent"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Checked:
    """The outcome of checking one artifact's attestation: ``problems`` empty means it holds.
    ``verdict`` and ``result`` are the summary's (reprobuild's verdict, PASSED or FAILED),
    ``kinds`` the predicate types of its statements, in order."""

    artifact: str
    attestation: str
    sha256: str
    keyid: str
    kinds: tuple[str, ...] = ()
    verdict: str | None = None
    result: str | None = None
    cause: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def _subject_problem(statement: dict[str, JSONValue], name: str, digest: str) -> str:
    """Why ``statement``'s subject is not the file ``name`` with sha256 ``digest`` ("" when
    it is)."""
    if statement.get("_type") != STATEMENT_TYPE:
        return f"not an in-toto Statement v1 (_type {statement.get('_type')!r})"
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        return "the statement has no subject"
    named = [s for s in subjects if isinstance(s, dict) and s.get("name") == name]
    if not named:
        names = ", ".join(str(s.get("name")) for s in subjects if isinstance(s, dict))
        return f"the statement is about {names}, not {name}"
    for subject in named:
        digests = subject.get("digest")
        found = digests.get("sha256") if isinstance(digests, dict) else None
        if found == digest:
            return ""
        return f"the subject's sha256 is {found}, the file's is {digest}: not this file"
    return ""  # pragma: no cover - named is not empty


def check_attestation(
    artifact: Path, attestation: Path, *, key: PublicKey, policy: AttestPolicy
) -> Checked:
    """Check ``attestation`` (``FILE.intoto.jsonl``) against the file ``artifact``, the key
    ``key`` and ``policy``. A file that is missing or does not read is bad input
    (:class:`UsageError`); every failed check is one of the result's problems."""
    for path, what in ((artifact, "the file"), (attestation, "the attestation")):
        if not path.is_file():
            raise UsageError(
                f"{what} is not there" if not path.exists() else f"{what} is not a file",
                path=str(path),
                hint="give an artifact whose FILE.intoto.jsonl is beside it (or in "
                "--attestations DIR)",
            )
    try:
        text = attestation.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise UsageError(f"cannot read: {exc}", path=str(attestation)) from exc
    try:
        digest = sha256_file(artifact)
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror}", path=str(artifact)) from exc
    name = artifact.name
    problems: list[str] = []
    kinds: list[str] = []
    summary: dict[str, JSONValue] | None = None
    provenance_digest: str | None = None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        problems.append("the attestation holds no envelope")
    for number, line in enumerate(lines, start=1):
        opened = open_envelope(line, key)
        if opened.statement is None:
            problems.append(f"envelope {number}: {opened.problem}")
            continue
        statement = opened.statement
        wrong = _subject_problem(statement, name, digest)
        if wrong:
            problems.append(f"envelope {number}: {wrong}")
            continue
        kind = str(statement.get("predicateType"))
        kinds.append(kind)
        if kind == PROVENANCE_TYPE and provenance_digest is None:
            provenance_digest = sha256_hex(opened.payload)
        elif kind == SUMMARY_TYPE:
            predicate = statement.get("predicate")
            summary = predicate if isinstance(predicate, dict) else {}
    verdict = result = cause = None
    if summary is not None:
        details = summary.get("reprobuild")
        details = details if isinstance(details, dict) else {}
        verdict = str(details.get("verdict")) if details.get("verdict") else None
        cause = str(details.get("cause")) if details.get("cause") else None
        result = str(summary.get("verificationResult"))
        inputs = summary.get("inputAttestations")
        linked = [
            i.get("digest", {}).get("sha256")  # type: ignore[union-attr]
            for i in (inputs if isinstance(inputs, list) else ())
            if isinstance(i, dict) and isinstance(i.get("digest"), dict)
        ]
        if provenance_digest is not None and linked and provenance_digest not in linked:
            problems.append("the verification summary is not about the provenance beside it")
        if verdict == "reproducible" and result != "PASSED":
            problems.append(f"the summary says {verdict} but {result}")
    if not problems and policy is not AttestPolicy.ANY:
        if summary is None:
            problems.append(
                f"policy {policy.value}: no verification summary (a build's attestation, "
                "not a verification: use --policy any to check only its signature)"
            )
        elif verdict not in _ACCEPTED[policy]:
            why = f": {cause}" if cause else ""
            problems.append(f"policy {policy.value}: the verdict is {verdict} ({result}){why}")
    return Checked(
        artifact=str(artifact),
        attestation=str(attestation),
        sha256=digest,
        keyid=key.keyid,
        kinds=tuple(kinds),
        verdict=verdict,
        result=result,
        cause=cause,
        problems=tuple(problems),
    )
