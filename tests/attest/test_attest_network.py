"""A real release verified with ``--attest``, its attestation checked, then each of the
envelope, the file and the key changed by one byte: each fails.

pickleshare 0.7.5 rebuilds byte for byte in a few seconds (a setuptools wheel of one module).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.cli.main import main
from reprobuild.index import IndexClient, release_files
from tests.attest.helpers import key_pair

pytestmark = pytest.mark.network

RELEASE = ("pickleshare", "0.7.5")
WHEEL = "pickleshare-0.7.5-py2.py3-none-any.whl"


def _flip(path: Path, offset: int) -> bytes:
    data = path.read_bytes()
    changed = bytearray(data)
    changed[offset] ^= 1
    path.write_bytes(bytes(changed))
    return data


def test_a_real_release_is_attested_and_each_change_fails(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path_factory.getbasetemp() / "attest-cache"
    _, public = key_pair(tmp_path / "keys")
    signing = tmp_path / "keys" / "signing.key"
    out = tmp_path / "attestations"
    name, version = RELEASE
    code = main(
        [
            "verify",
            f"{name}=={version}",
            "--cache-dir",
            str(cache),
            "--attest",
            str(out),
            "--signing-key",
            str(signing),
        ]
    )
    assert code == 0, capsys.readouterr()
    attestation = out / f"{WHEEL}.intoto.jsonl"
    assert attestation.is_file()
    # the published wheel, as the index serves it (from the download cache)
    client = IndexClient(cache_dir=cache)
    (wheel_file,) = [
        f for f in release_files(client.project_files(name), name, version) if f.filename == WHEEL
    ]
    wheel = out / WHEEL
    wheel.write_bytes(client.download(wheel_file).read_bytes())
    capsys.readouterr()

    assert main(["attest", "verify", str(wheel), "--key", str(public)]) == 0
    assert "ok: reproducible (PASSED)" in capsys.readouterr().out

    good = _flip(attestation, 60)
    assert main(["attest", "verify", str(wheel), "--key", str(public)]) == 1
    assert "reason: envelope 1: " in capsys.readouterr().out
    attestation.write_bytes(good)

    good = _flip(wheel, 100)
    assert main(["attest", "verify", str(wheel), "--key", str(public)]) == 1
    assert "not this file" in capsys.readouterr().out
    wheel.write_bytes(good)

    # one byte of the public key: another key (or none that reads)
    text = public.read_text()
    lines = text.splitlines()
    body = lines[1]
    lines[1] = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    public.write_text("\n".join(lines) + "\n")
    code = main(["attest", "verify", str(wheel), "--key", str(public)])
    captured = capsys.readouterr()
    assert code in (1, 2)  # another key (1), or bytes that are no key at all (2)
    assert "no signature verifies" in captured.out or captured.err.startswith("error: ")
    public.write_text(text)
    assert main(["attest", "verify", str(wheel), "--key", str(public)]) == 0
