"""``reprobuild results --format html -o DIR``: the site is written whole, replaces only a
previous dashboard, and links the attestations found beside the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.cli._dashboard import MARKER
from reprobuild.cli.main import main
from tests.present.dashboarddata import benchmark_db


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return benchmark_db(tmp_path / "cache" / "results.sqlite3")


def _site(db: Path, out: Path, *extra: str) -> int:
    return main(["results", "--db", str(db), "--format", "html", "-o", str(out), *extra])


def test_the_site_is_written_and_a_previous_one_replaced(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site"
    assert _site(db, out) == 0
    assert "release pages" in capsys.readouterr().err
    assert (out / "index.html").is_file() and (out / MARKER).is_file()
    pages = sorted(p.name for p in (out / "releases").iterdir())
    assert "ipython-7.16.1.html" in pages and len(pages) == 69
    assert out.stat().st_mode & 0o777 == 0o755
    (out / "stale.html").write_text("from before")
    assert _site(db, out, "--name", "ipython") == 0
    assert not (out / "stale.html").exists()  # replaced whole
    assert sorted(p.name for p in (out / "releases").iterdir()) == ["ipython-7.16.1.html"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers


def test_a_folder_that_is_not_a_dashboard_is_left_alone(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"\xff\xd8")
    assert _site(db, out) == 2
    assert "not a dashboard reprobuild wrote" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["holiday.jpg"]
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    assert _site(db, a_file) == 2
    assert a_file.read_text() == "mine"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _site(db, empty) == 0 and (empty / "index.html").is_file()


def test_html_and_the_output_folder_go_together(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["results", "--db", str(db), "--format", "html"]) == 2
    assert "-o DIR" in capsys.readouterr().err
    assert main(["results", "--db", str(db), "-o", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
    assert _site(db, tmp_path / "x", "--attestations", str(tmp_path / "absent")) == 2


def test_attestations_beside_the_database_are_copied_and_linked(db: Path, tmp_path: Path) -> None:
    folder = db.parent / "attestations"
    folder.mkdir()
    wheel = "attrs-23.2.0-py3-none-any.whl"
    (folder / f"{wheel}.intoto.jsonl").write_text('{"payloadType": "x"}\n')
    (folder / "unrelated.intoto.jsonl").write_text("{}\n")
    out = tmp_path / "site"
    assert _site(db, out) == 0
    copied = out / "attestations" / f"{wheel}.intoto.jsonl"
    assert copied.read_text() == '{"payloadType": "x"}\n'
    page = (out / "releases" / "attrs-23.2.0.html").read_text()
    assert f'<a href="../attestations/{wheel}.intoto.jsonl">attestation</a>' in page
    assert "attestation" not in (out / "releases" / "six-1.12.0.html").read_text()
    assert not (out / "attestations" / "unrelated.intoto.jsonl").exists()
    # another folder, named
    other = tmp_path / "signed"
    other.mkdir()
    assert _site(db, out, "--attestations", str(other)) == 0
    assert not (out / "attestations").exists()


def test_a_database_without_the_newer_columns_still_makes_a_site(tmp_path: Path) -> None:
    import sqlite3
    from contextlib import closing

    db = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.executescript(
            "CREATE TABLE attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
            "version TEXT NOT NULL, filename TEXT NOT NULL, verdict TEXT NOT NULL, "
            "cause TEXT NOT NULL, categories TEXT NOT NULL, sha256 TEXT NOT NULL, "
            "rebuilt_sha256 TEXT, override TEXT, recipe TEXT, started TEXT NOT NULL, "
            "seconds REAL NOT NULL, tool_version TEXT NOT NULL);"
            "INSERT INTO attempts (name, version, filename, verdict, cause, categories, sha256, "
            "started, seconds, tool_version) VALUES ('old', '0.1', 'old-0.1-py3-none-any.whl', "
            "'different', 'x', '[]', '', '2020-01-01T00:00:00+00:00', 1.0, '0.0.1')"
        )
    assert _site(db, tmp_path / "site") == 0
    page = (tmp_path / "site" / "releases" / "old-0.1.html").read_text()
    assert "different in its last attempt: x" in page
