"""``reprobuild verify`` on real releases: IPython 7.16.1 and 7.17.0 are rebuilt byte for byte.

Their wheels were built with ``wheel`` 0.30.0 and ``SOURCE_DATE_EPOCH`` set, from a tree where
the man page had been compressed (recorded in reprobuild's recipe override for IPython).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reprobuild.cli.main import main

pytestmark = pytest.mark.network


@pytest.mark.parametrize("version", ["7.16.1", "7.17.0"])
def test_ipython_is_reproducible(
    version: str, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path_factory.getbasetemp() / "verify-cache"
    code = main(["verify", f"ipython=={version}", "--cache-dir", str(cache), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    (artifact,) = doc["artifacts"]
    assert artifact["verdict"] == "reproducible", artifact
    assert artifact["sha256"] == artifact["rebuilt_sha256"]
    assert artifact["override_used"] is True
    recipe = artifact["recipe"]
    assert recipe["requirements"] == ["wheel==0.30.0"]
    assert recipe["source_date_epoch"] is not None
    assert code == 0


def test_without_the_override_the_missing_man_page_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reprobuild.frontend import find_pythons
    from reprobuild.index import IndexClient, release_files
    from reprobuild.rebuild import Verdict, verify_wheel

    cache = tmp_path / "cache"
    client = IndexClient(cache_dir=cache)
    files = release_files(client.project_files("ipython"), "ipython", "7.16.1")
    wheel = next(f for f in files if f.filename.endswith(".whl"))
    sdist = next(f for f in files if f.filename.endswith(".tar.gz"))
    # an empty recipe folder of our own, and the shipped recipes hidden: no override applies
    monkeypatch.setattr("reprobuild.rebuild.verify.find_override", lambda *a, **k: None)
    result = verify_wheel(
        client.download(wheel),
        client.download(sdist),
        name="ipython",
        version="7.16.1",
        upload_time=wheel.upload_time,
        cache_dir=cache,
        pythons=find_pythons(),
    )
    assert result.verdict is Verdict.DIFFERENT
    assert "ipython.1.gz" in result.cause
    assert "recipe override" in result.cause
