"""The results database: every attempt is kept, and ``reprobuild results`` lists and exports it."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reprobuild.cli.main import main
from reprobuild.rebuild import ArtifactResult, Verdict, Verification
from reprobuild.rebuild.history import list_attempts, record_verification
from reprobuild.strategy import Evidence, Recipe


def _verification(verdict: Verdict, *, version: str = "1.0", cause: str = "") -> Verification:
    recipe = Recipe(
        requirements=("hatchling==1.21.0",),
        evidence=(Evidence(field="requirements", value="hatchling==1.21.0", reason="WHEEL"),),
    )
    result = ArtifactResult(
        filename=f"demo-{version}-py3-none-any.whl",
        verdict=verdict,
        sha256="a" * 64,
        rebuilt_sha256="b" * 64,
        recipe=recipe,
        categories=("timestamp",) if verdict is Verdict.EQUIVALENT else (),
        cause=cause,
        seconds=1.5,
    )
    return Verification(
        name="demo", version=version, sdist=f"demo-{version}.tar.gz", results=(result,)
    )


def test_attempts_are_kept_failures_included(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "results.sqlite3"
    when = datetime(2026, 1, 2, tzinfo=UTC)
    record_verification(db, _verification(Verdict.BUILD_FAILED, cause="no backend"), started=when)
    record_verification(db, _verification(Verdict.EQUIVALENT), started=when)
    record_verification(db, _verification(Verdict.REPRODUCIBLE, version="2.0"), started=when)
    attempts = list(list_attempts(db))
    assert [a.verdict for a in attempts] == ["build-failed", "equivalent", "reproducible"]
    assert attempts[0].cause == "no backend"
    assert attempts[1].categories == ("timestamp",)
    latest = list(list_attempts(db, latest=True))
    assert [(a.version, a.verdict) for a in latest] == [
        ("1.0", "equivalent"),
        ("2.0", "reproducible"),
    ]
    assert [a.version for a in list_attempts(db, verdicts=["build-failed"])] == ["1.0"]
    assert list(list_attempts(tmp_path / "absent.sqlite3")) == []


def test_results_command_exports_json_and_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "r.sqlite3"
    record_verification(
        db, _verification(Verdict.DIFFERENT, cause="built on Windows"), started=datetime.now(UTC)
    )
    assert main(["results", "--db", str(db), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (row,) = doc["attempts"]
    assert row["verdict"] == "different" and row["cause"] == "built on Windows"
    assert main(["results", "--db", str(db), "--format", "csv", "--name", "DEMO"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert table[0]["filename"] == "demo-1.0-py3-none-any.whl"
    assert main(["results", "--db", str(db), "--verdict", "reproducible"]) == 0
    assert capsys.readouterr().out == ""


def test_a_bad_releases_file_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "releases.txt"
    listing.write_text("attrs==23.2.0\nnot a release\n")
    assert main(["verify", "-r", str(listing), "--cache-dir", str(tmp_path)]) == 2
    assert "not NAME==VERSION" in capsys.readouterr().err


def test_a_database_without_origins_is_brought_up_to_date(tmp_path: Path) -> None:
    import sqlite3
    from contextlib import closing

    db = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.execute(
            "CREATE TABLE attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
            "version TEXT NOT NULL, filename TEXT NOT NULL, verdict TEXT NOT NULL, "
            "cause TEXT NOT NULL, categories TEXT NOT NULL, sha256 TEXT NOT NULL, "
            "rebuilt_sha256 TEXT, override TEXT, recipe TEXT, started TEXT NOT NULL, "
            "seconds REAL NOT NULL, tool_version TEXT NOT NULL)"
        )
        connection.execute(
            "INSERT INTO attempts (name, version, filename, verdict, cause, categories, sha256, "
            "started, seconds, tool_version) VALUES ('demo', '0.9', '', 'error', 'gone', '[]', "
            "'', '2025-01-01T00:00:00+00:00', 1.0, '0.1')"
        )
    record_verification(db, _verification(Verdict.REPRODUCIBLE), started=datetime.now(UTC))
    record_verification(
        db, _verification(Verdict.REPRODUCIBLE), started=datetime.now(UTC), origin="local"
    )
    # the old row's origin was not kept: none, rather than a guess
    assert [(a.version, a.origin) for a in list_attempts(db)] == [
        ("0.9", None),
        ("1.0", "index"),
        ("1.0", "local"),
    ]


def test_results_say_when_no_attempt_matches_and_when_the_database_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "r.sqlite3"
    assert main(["results", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {db}: no such database") and "\nhint: " in err
    assert not db.exists()
    # the default database not there yet: nothing verified yet, not an error
    assert main(["results", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert "no attempts recorded" in capsys.readouterr().err
    record_verification(db, _verification(Verdict.REPRODUCIBLE), started=datetime.now(UTC))
    assert main(["results", "--db", str(db), "--name", "nosuch"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"no attempt matches the filters (1 recorded in {db})\n"
