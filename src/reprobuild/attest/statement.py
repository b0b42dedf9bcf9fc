"""The in-toto statements reprobuild signs: what a rebuild was, and what it showed.

For every judged artifact of ``reprobuild verify`` there are two statements, both about the
published file (the subject: its name and sha256):

- :func:`provenance_statement`: an SLSA Provenance v1 predicate whose ``buildType`` is
  :data:`REBUILD_TYPE`: how reprobuild rebuilt the file (the release, the source's digest,
  the recipe with the evidence of every field, what was fitted by trying rebuilds, the
  pinned build environments, the sandbox, and whether the rebuild ran or was found in the
  action cache, which is a claim, not a rebuild);
- :func:`summary_statement`: an SLSA Verification Summary v1: ``PASSED`` when the rebuild is
  the published file byte for byte, ``FAILED`` otherwise, with reprobuild's verdict, the
  categories that differed and the cause. A failure is attested as a success is.

For every step ``reprobuild graph`` built or found, :func:`graph_step_statement` gives one
statement about the step's output, with an SLSA Provenance v1 predicate whose ``buildType``
is :data:`GRAPH_STEP_TYPE`: the action's key and the document it is the hash of. A graph step
is a build, not a verification: no verification summary goes with it.

``docs/attestations.md`` documents every field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from reprobuild import __version__
from reprobuild._types import JSONValue
from reprobuild.rebuild import ArtifactResult, Verdict, Verification
from reprobuild.rebuild.document import fitted_document, rebuild_document, recipe_document

__all__ = [
    "GRAPH_STEP_TYPE",
    "PROVENANCE_TYPE",
    "REBUILD_TYPE",
    "STATEMENT_TYPE",
    "SUMMARY_TYPE",
    "VERIFIER_ID",
    "graph_step_statement",
    "provenance_statement",
    "summary_statement",
]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PROVENANCE_TYPE = "https://slsa.dev/provenance/v1"
SUMMARY_TYPE = "https://slsa.dev/verification_summary/v1"
#: The build type of a rebuild of a published file by ``reprobuild verify``.
REBUILD_TYPE = "urn:reprobuild:attestations:rebuild:v1"
#: The build type of one step of ``reprobuild graph``.
GRAPH_STEP_TYPE = "urn:reprobuild:attestations:graph-step:v1"
#: The builder and verifier: reprobuild, run by whoever holds the signing key.
VERIFIER_ID = "urn:reprobuild:attestations:verifier:v1"
#: The policy a verification summary applies: PASSED means the same sha256.
POLICY_URI = "urn:reprobuild:attestations:policy:reproducible:v1"


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _subject(name: str, sha256: str) -> list[JSONValue]:
    return [{"name": name, "digest": {"sha256": sha256}}]


def _purl(name: str, version: str) -> str:
    """The package URL of a release (the purl type ``pypi``, the name lower case with ``_``
    as ``-``, as the purl specification asks)."""
    return f"pkg:pypi/{name.lower().replace('_', '-')}@{version}"


def _dependencies(verification: Verification, result: ArtifactResult) -> list[JSONValue]:
    """What the rebuild consumed: the sdist (or the checkout), then every pinned requirement
    of each build environment, by the sha256 of the files it may have been installed from."""
    out: list[JSONValue] = []
    source = result.buildinfo.get("source")
    if result.source_sha256 and verification.sdist:
        out.append({"name": verification.sdist, "digest": {"sha256": result.source_sha256}})
    elif isinstance(source, dict) and isinstance(source.get("sha256"), str):
        entry: dict[str, JSONValue] = {
            "name": str(source.get("name") or "source"),
            "digest": {"sha256": source["sha256"]},
        }
        if isinstance(source.get("git_commit"), str):
            entry["digest"] = {"sha256": source["sha256"], "gitCommit": source["git_commit"]}
        out.append(entry)
    environments = result.buildinfo.get("environments")
    if isinstance(environments, dict):
        for stage, environment in sorted(environments.items()):
            if not isinstance(environment, dict):
                continue
            requirements = environment.get("requirements")
            for pin in requirements if isinstance(requirements, list) else ():
                if not isinstance(pin, dict):
                    continue
                hashes = [str(h) for h in pin.get("hashes") or () if isinstance(h, str)]  # type: ignore[union-attr]
                name, version = str(pin.get("name")), str(pin.get("version"))
                described: dict[str, JSONValue] = {
                    "name": f"{name}=={version}",
                    "uri": _purl(name, version),
                    "annotations": {"environment": stage},
                }
                if len(hashes) == 1:
                    described["digest"] = {"sha256": hashes[0].removeprefix("sha256:")}
                elif hashes:
                    described["annotations"] = {
                        "environment": stage,
                        "sha256": [h.removeprefix("sha256:") for h in hashes],
                    }
                out.append(described)
    return out


def _fitted(result: ArtifactResult) -> list[JSONValue]:
    """The recipe's fields chosen by trying values against the published file (not read from
    it), each with the value, the number of tries and what they were scored against."""
    return [fitted_document(f) for f in result.fitted]


def provenance_statement(
    verification: Verification, result: ArtifactResult
) -> dict[str, JSONValue]:
    """The SLSA Provenance v1 statement of the rebuild of ``result``'s published file."""
    external: dict[str, JSONValue] = {
        "release": {
            "name": verification.name,
            "version": verification.version,
            "purl": _purl(verification.name, verification.version),
        },
        "artifact": result.filename,
        "source": verification.sdist if result.source_sha256 else None,
        "recipe": recipe_document(result.recipe) if result.recipe else None,
    }
    rebuild = rebuild_document(result.rebuild) if result.rebuilt_sha256 else None
    internal: dict[str, JSONValue] = {
        "fitted": _fitted(result),
        "sandbox": dict(verification.sandbox) or None,
        "contained": list(result.contained),
        "rebuild": rebuild,
        "buildinfo": {
            k: v
            for k, v in result.buildinfo.items()
            if k not in ("schema_version", "tool", "command", "outputs")
        }
        or None,
    }
    byproducts: list[JSONValue] = []
    if result.rebuilt_filename and result.rebuilt_sha256:
        byproducts.append(
            {"name": result.rebuilt_filename, "digest": {"sha256": result.rebuilt_sha256}}
        )
    metadata: dict[str, JSONValue] = {}
    if result.rebuild is not None:
        metadata["invocationId"] = result.rebuild.key
        if result.rebuild.result.created:
            metadata["finishedOn"] = result.rebuild.result.created
    predicate: dict[str, JSONValue] = {
        "buildDefinition": {
            "buildType": REBUILD_TYPE,
            "externalParameters": external,
            "internalParameters": internal,
            "resolvedDependencies": _dependencies(verification, result),
        },
        "runDetails": {
            "builder": {"id": VERIFIER_ID, "version": {"reprobuild": __version__}},
            "metadata": metadata,
            "byproducts": byproducts,
        },
    }
    return {
        "_type": STATEMENT_TYPE,
        "subject": _subject(result.filename, result.sha256),
        "predicateType": PROVENANCE_TYPE,
        "predicate": predicate,
    }


def summary_statement(
    verification: Verification,
    result: ArtifactResult,
    *,
    verified_at: datetime,
    provenance_digest: str,
    publisher: Mapping[str, JSONValue] | None = None,
) -> dict[str, JSONValue]:
    """The SLSA Verification Summary v1 statement of ``result``: ``PASSED`` only when the
    verdict is ``reproducible``. ``provenance_digest`` is the sha256 of the provenance
    statement's signed payload (the summary's input attestation); ``publisher`` what the
    file's publish attestation says, when it has one."""
    passed = result.verdict is Verdict.REPRODUCIBLE
    details: dict[str, JSONValue] = {
        "verdict": result.verdict.value,
        "verdict_text": result.verdict_text,
        "categories": list(result.categories),
        "cause": result.cause or None,
        "rebuilt": (
            {"name": result.rebuilt_filename, "sha256": result.rebuilt_sha256}
            if result.rebuilt_sha256
            else None
        ),
        "rebuild": rebuild_document(result.rebuild) if result.rebuilt_sha256 else None,
        "override": result.recipe.override if result.recipe else None,
    }
    if publisher is not None:
        details["publisher"] = dict(publisher)
    predicate: dict[str, JSONValue] = {
        "verifier": {"id": VERIFIER_ID, "version": {"reprobuild": __version__}},
        "timeVerified": _time(verified_at),
        "resourceUri": f"{_purl(verification.name, verification.version)}"
        f"?file_name={result.filename}",
        "policy": {"uri": POLICY_URI},
        "inputAttestations": [
            {"uri": f"{result.filename}.intoto.jsonl#1", "digest": {"sha256": provenance_digest}}
        ],
        "verificationResult": "PASSED" if passed else "FAILED",
        "verifiedLevels": ["REPROBUILD_REPRODUCIBLE"] if passed else ["FAILED"],
        "reprobuild": details,
    }
    return {
        "_type": STATEMENT_TYPE,
        "subject": _subject(result.filename, result.sha256),
        "predicateType": SUMMARY_TYPE,
        "predicate": predicate,
    }


def graph_step_statement(
    *,
    output: str,
    sha256: str,
    step: str,
    key: str,
    action: Mapping[str, JSONValue],
    status: str,
    where: str | None,
) -> dict[str, JSONValue]:
    """The SLSA Provenance v1 statement of one output (``output``, ``sha256``) of the graph
    step ``step``: its action ``key`` and the ``action`` document the key is the hash of
    (its ``inputs`` are the resolved dependencies, by role), ``status`` as the graph reports
    it (``built``, ``cache-hit``, ...: a hit is a claim, not a build) and ``where`` it ran."""
    inputs = action.get("inputs")
    dependencies: list[JSONValue] = [
        {"name": role, "digest": {"sha256": digest}}
        for role, digest in sorted(inputs.items() if isinstance(inputs, dict) else ())
        if isinstance(digest, str) and role != "git_commit"
    ]
    predicate: dict[str, JSONValue] = {
        "buildDefinition": {
            "buildType": GRAPH_STEP_TYPE,
            "externalParameters": {"step": step},
            "internalParameters": {"action": dict(action), "status": status, "where": where},
            "resolvedDependencies": dependencies,
        },
        "runDetails": {
            "builder": {"id": VERIFIER_ID, "version": {"reprobuild": __version__}},
            "metadata": {"invocationId": key},
        },
    }
    return {
        "_type": STATEMENT_TYPE,
        "subject": _subject(output, sha256),
        "predicateType": PROVENANCE_TYPE,
        "predicate": predicate,
    }
