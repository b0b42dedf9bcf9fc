"""``reprobuild attest verify``: check signed attestations against their files, a key and a
policy, and show who published each file when it has a publish attestation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reprobuild.cli._output import HelpFormatter, Subparsers, print_json, shown
from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.attest import Publisher
    from reprobuild.report import JSONValue

__all__ = ["describe_publisher", "publishers_for", "register", "run"]

_DESCRIPTION = """\
Check the attestations 'reprobuild verify --attest DIR' wrote. For each FILE (an artifact, or
its FILE.intoto.jsonl), the attestation FILE.intoto.jsonl (beside it, or in --attestations
DIR) must hold DSSE envelopes signed by the key given, each an in-toto statement whose subject
is FILE with FILE's sha256, and its verification summary must meet the policy:
reproducible (the rebuild is FILE byte for byte; the default), equivalent (or the same once
normalized), or any (failures too: only the signatures and the subject are checked).

When FILE has a PEP 740 publish attestation beside it (FILE.provenance or
FILE.publish.attestation, or given with --publish-attestation), who published it is shown:
the repository, workflow and commit its Sigstore certificate names, checked against the
Sigstore trust root the sigstore package ships (no network), or marked as not verified with
the reason. A publish attestation about another digest, or a commit other than --commit,
fails the check.
"""

_EPILOG = """\
examples:
  reprobuild attest verify demo-1.0-py3-none-any.whl --key signing.pub
  reprobuild attest verify dist/*.whl --key signing.pub --attestations attestations/
  reprobuild attest verify demo-1.0.tar.gz --key signing.pub --policy any --format json

exit codes: 0 every attestation holds, 1 one does not (the reason is printed: a changed
envelope, another key, a file that is not the subject, a policy the verdict does not meet, a
publish attestation that does not match), 2 bad input (a missing file or key).
"""


def register(subparsers: Subparsers) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "attest",
        help="check signed attestations of verifications",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    actions = parser.add_subparsers(dest="attest_command", metavar="ACTION", required=True)
    check: argparse.ArgumentParser = actions.add_parser(
        "verify",
        help="check attestations against their files, a public key and a policy",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument(
        "--key", type=Path, required=True, metavar="PUB", help="the signer's public key (PEM)"
    )
    check.add_argument(
        "--policy",
        choices=("reproducible", "equivalent", "any"),
        default="reproducible",
        help="what the verification summary must say (default: reproducible)",
    )
    check.add_argument(
        "--attestations",
        type=Path,
        metavar="DIR",
        help="the folder the FILE.intoto.jsonl files are in (default: beside each FILE)",
    )
    check.add_argument(
        "--publish-attestation",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="a PEP 740 publish attestation, named ARTIFACT.publish.attestation or "
        "ARTIFACT.provenance (repeatable; by default one beside each FILE is used)",
    )
    check.add_argument(
        "--commit",
        metavar="SHA",
        help="the source commit the files must have been published from",
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(run=run)


def publishers_for(
    artifacts: list[tuple[str, str, Path | None]],
    given: list[Path],
    *,
    commit: str | None,
) -> dict[str, Publisher]:
    """The publish attestations of ``artifacts`` (file name, sha256, the path of the file or
    None), read and verified, by file name: one given in ``given`` (named after its artifact)
    or, for a file on disk, one beside it."""
    from reprobuild.attest import find_publish_attestation, read_publisher
    from reprobuild.attest.publish import PUBLISH_SUFFIXES

    named: dict[str, Path] = {}
    for path in given:
        if not path.is_file():
            raise UsageError("no such publish attestation", path=str(path))
        stem = next((path.name[: -len(s)] for s in PUBLISH_SUFFIXES if path.name.endswith(s)), "")
        if not stem:
            raise UsageError(
                "a publish attestation is named ARTIFACT.publish.attestation or "
                "ARTIFACT.provenance",
                path=str(path),
            )
        named[stem] = path
    out: dict[str, Publisher] = {}
    for name, sha256, where in artifacts:
        found = named.get(name) or (find_publish_attestation(where) if where else None)
        if found is not None:
            out[name] = read_publisher(
                found, artifact_name=name, artifact_sha256=sha256, commit=commit
            )
    return out


def describe_publisher(publisher: Publisher) -> list[str]:
    """The lines that say who published a file, and whether that was verified."""
    who = publisher.repository or publisher.identity or "an unnamed identity"
    lines = [f"publisher: {who}"]
    if publisher.workflow:
        lines.append(f"  workflow: {publisher.workflow}")
    if publisher.commit:
        lines.append(f"  commit: {publisher.commit}")
    if publisher.issuer:
        lines.append(f"  issuer: {publisher.issuer}")
    if publisher.verified:
        lines.append(
            "  certificate: verified (Sigstore, the trust root the sigstore package ships)"
        )
    else:
        lines.append(f"  certificate not verified: {publisher.problem}")
    lines += [f"  MISMATCH: {m}" for m in publisher.mismatches]
    return [shown(line) for line in lines]


def _pair(path: Path, folder: Path | None) -> tuple[Path, Path]:
    """The artifact and its attestation, for a FILE given as either."""
    from reprobuild.attest import ATTESTATION_SUFFIX

    if path.name.endswith(ATTESTATION_SUFFIX):
        artifact = path.with_name(path.name[: -len(ATTESTATION_SUFFIX)])
        return artifact, path
    where = folder if folder is not None else path.parent
    return path, where / (path.name + ATTESTATION_SUFFIX)


def run(args: argparse.Namespace) -> int:
    from reprobuild.attest import AttestPolicy, check_attestation, load_public_key
    from reprobuild.report import envelope

    key = load_public_key(args.key)
    policy = AttestPolicy(args.policy)
    if args.attestations is not None and not args.attestations.is_dir():
        raise UsageError("not a folder", path=str(args.attestations))
    pairs = [_pair(path, args.attestations) for path in args.files]
    checked = [check_attestation(a, b, key=key, policy=policy) for a, b in pairs]
    publishers = publishers_for(
        [(Path(c.artifact).name, c.sha256, Path(c.artifact)) for c in checked],
        args.publish_attestation,
        commit=args.commit,
    )
    failed = False
    documents: list[JSONValue] = []
    for result in checked:
        name = Path(result.artifact).name
        publisher = publishers.get(name)
        problems = list(result.problems)
        if publisher is not None:
            problems += [f"publish attestation: {m}" for m in publisher.mismatches]
        failed = failed or bool(problems)
        if args.format == "json":
            listed: list[JSONValue] = [*problems]
            documents.append(
                {
                    "file": result.artifact,
                    "attestation": result.attestation,
                    "sha256": result.sha256,
                    "keyid": result.keyid,
                    "ok": not problems,
                    "statements": list(result.kinds),
                    "verdict": result.verdict,
                    "verification_result": result.result,
                    "problems": listed,
                    "publisher": publisher.to_json() if publisher is not None else None,
                }
            )
            continue
        if problems:
            print(f"{shown(name)}: FAILED")
            for problem in problems:
                print(f"  reason: {shown(problem)}")
        else:
            said = f"{result.verdict} ({result.result})" if result.verdict else "a build"
            print(f"{shown(name)}: ok: {said}, signed by key {result.keyid[:16]}")
        if publisher is not None:
            for line in describe_publisher(publisher):
                print(f"  {line}")
    if args.format == "json":
        print_json(envelope("attest verify", {"policy": policy.value, "files": documents}))
    elif failed:
        print("attestation check failed", file=sys.stderr)
    return 1 if failed else 0
