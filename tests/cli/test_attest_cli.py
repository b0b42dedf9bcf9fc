"""``reprobuild key generate`` and ``reprobuild attest verify``: exit codes and what they say."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from reprobuild._types import JSONValue
from reprobuild.cli.main import main
from tests.attest.helpers import attested, key_pair, pep740_data
from tests.factories import make_wheel


def test_key_generate_prints_where_the_keys_are_never_the_private_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["key", "generate", "--out", str(tmp_path / "k")]) == 0
    out = capsys.readouterr().out
    private = (tmp_path / "k" / "signing.key").read_text()
    assert "PRIVATE KEY" not in out and private.splitlines()[1] not in out
    assert "key id: " in out and "signing.pub" in out
    assert stat.S_IMODE((tmp_path / "k" / "signing.key").stat().st_mode) == 0o600
    assert main(["key", "generate", "--out", str(tmp_path / "k")]) == 2
    assert "error: " in capsys.readouterr().err
    assert (tmp_path / "k" / "signing.key").read_text() == private


def test_attest_verify_passes_then_each_tampering_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, public = key_pair(tmp_path / "keys")
    wheel, attestation = attested(tmp_path / "out", key)
    assert main(["attest", "verify", str(wheel), "--key", str(public)]) == 0
    assert "ok: reproducible (PASSED)" in capsys.readouterr().out
    # the attestation named instead of the file, in JSON
    assert (
        main(["attest", "verify", str(attestation), "--key", str(public), "--format", "json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["files"][0]["ok"] is True and doc["command"] == "attest verify"

    _, other = key_pair(tmp_path / "other")
    assert main(["attest", "verify", str(wheel), "--key", str(other)]) == 1
    assert "no signature verifies with key" in capsys.readouterr().out

    good = attestation.read_bytes()
    flipped = bytearray(good)
    flipped[40] ^= 1  # in the first envelope's payload
    attestation.write_bytes(bytes(flipped))
    assert main(["attest", "verify", str(wheel), "--key", str(public)]) == 1
    assert "envelope 1: " in capsys.readouterr().out
    attestation.write_bytes(good)

    data = wheel.read_bytes()
    wheel.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    assert main(["attest", "verify", str(wheel), "--key", str(public)]) == 1
    assert "not this file" in capsys.readouterr().out


def test_a_policy_miss_fails_with_the_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key, public = key_pair(tmp_path / "keys")
    other = make_wheel(files={"demo/__init__.py": b"x = 2\n"})
    wheel, _ = attested(tmp_path / "out", key, rebuilt=other)
    assert main(["attest", "verify", str(wheel), "--key", str(public)]) == 1
    out = capsys.readouterr().out
    assert "reason: policy reproducible: the verdict is different (FAILED)" in out
    assert main(["attest", "verify", str(wheel), "--key", str(public), "--policy", "any"]) == 0
    assert "ok: different (FAILED)" in capsys.readouterr().out


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, public = key_pair(tmp_path / "keys")
    wheel, _ = attested(tmp_path / "out", key)
    assert main(["attest", "verify", str(wheel), "--key", str(tmp_path / "none.pub")]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert main(["attest", "verify", str(tmp_path / "x.whl"), "--key", str(public)]) == 2
    assert "the file is not there" in capsys.readouterr().err
    assert (
        main(
            [
                "attest",
                "verify",
                str(wheel),
                "--key",
                str(public),
                "--attestations",
                str(tmp_path / "nowhere"),
            ]
        )
        == 2
    )


def test_the_publisher_is_shown_beside_the_rebuild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A publish attestation beside the file: who published it, verified; another commit is
    a mismatch and fails the check."""
    data = pep740_data()
    key, public = key_pair(tmp_path / "keys")
    wheel, _ = attested(tmp_path / "out", key)
    name = "pypi_attestations-0.0.19.tar.gz"
    given = tmp_path / f"{wheel.name}.publish.attestation"
    shutil.copyfile(data / f"{name}.publish.attestation", given)
    # the publish attestation is about another file than the demo wheel: a mismatch
    assert (
        main(
            [
                "attest",
                "verify",
                str(wheel),
                "--key",
                str(public),
                "--publish-attestation",
                str(given),
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "publisher: https://github.com/trailofbits/pypi-attestations" in out
    assert "certificate: verified" in out
    assert "MISMATCH: the attestation is about pypi_attestations-0.0.19.tar.gz" in out


def test_an_unverified_publisher_is_marked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = pep740_data()
    key, public = key_pair(tmp_path / "keys")
    name = "rfc8785-0.1.2-py3-none-any.whl"
    (tmp_path / "out").mkdir()
    shutil.copyfile(data / name, tmp_path / "out" / name)
    shutil.copyfile(
        data / f"{name}.publish.attestation", tmp_path / "out" / f"{name}.publish.attestation"
    )
    import hashlib

    from reprobuild.attest import sign_envelope, write_attestation
    from reprobuild.attest.statement import STATEMENT_TYPE

    digest = hashlib.sha256((tmp_path / "out" / name).read_bytes()).hexdigest()
    statement: dict[str, JSONValue] = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {},
    }
    write_attestation(tmp_path / "out", name, [sign_envelope(statement, key)])
    code = main(
        ["attest", "verify", str(tmp_path / "out" / name), "--key", str(public), "--policy", "any"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "publisher: william@yossarian.net" in out
    assert "certificate not verified: " in out


def test_graph_steps_get_a_provenance_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """graph --attest: one provenance per output of a step built or found (its action's key
    and document), none for a seeded or failed step; no verification summary."""
    import hashlib

    from reprobuild.attest import AttestPolicy, check_attestation, load_public_key
    from reprobuild.cli._attest import attest_graph
    from reprobuild.graph.schedule import GraphReport, NodeReport

    key, public = key_pair(tmp_path / "keys")
    wheel = tmp_path / "out" / "demo-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(make_wheel())
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    action: dict[str, JSONValue] = {"kind": "wheel", "inputs": {"sdist": "a" * 64}}
    report = GraphReport(
        nodes=(
            NodeReport(
                id="demo:wheel",
                status="built",
                key="b" * 64,
                outputs={wheel.name: digest},
                action=action,
            ),
            NodeReport(id="seed:seed", status="seeded", key="c" * 64, outputs={"s.whl": digest}),
        ),
        executor="serial",
        seconds=0.0,
        exclude_newer="2026-01-01T00:00:00+00:00",
    )
    (written,) = attest_graph(tmp_path / "out", report, key)
    assert written.name == wheel.name + ".intoto.jsonl"
    pub = load_public_key(public)
    assert check_attestation(wheel, written, key=pub, policy=AttestPolicy.ANY).ok
    (problem,) = check_attestation(
        wheel, written, key=pub, policy=AttestPolicy.REPRODUCIBLE
    ).problems
    assert "no verification summary" in problem
    capsys.readouterr()
