"""``reprobuild diff`` as a user runs it: a real subprocess, real files and folders.

A few tests at the end call ``main()`` in this process instead, to replace the folder
comparator with a stand-in (what the command hands it is under test there, not the comparator).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from reprobuild.cli import diff as diff_command
from reprobuild.compare import INCONSEQUENTIAL, Category, CompareOptions, Difference
from reprobuild.present import load_json, render_json
from tests.factories import make_wheel
from tests.present.htmlcheck import assert_self_contained, parse


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reprobuild", "diff", *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    a, same, b = tmp_path / "a.txt", tmp_path / "same.txt", tmp_path / "b.txt"
    a.write_bytes(b"one\ntwo\n")
    same.write_bytes(b"one\ntwo\n")
    b.write_bytes(b"one\nthree\n")
    return a, same, b


def make_folder(root: Path, files: Mapping[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    root.mkdir(parents=True, exist_ok=True)
    return root


def test_identical_files_exit_0(files: tuple[Path, Path, Path]) -> None:
    a, same, _ = files
    result = run(a, same)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{a} vs {same}\nno differences\n"
    assert result.stderr == ""


def test_different_files_exit_1(files: tuple[Path, Path, Path]) -> None:
    a, _, b = files
    result = run(a, b)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(f"{a} vs {b}")
    assert "content" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("(consequential)")
    assert "\x1b" not in result.stdout  # not a terminal: no colour
    assert result.stderr == ""


@pytest.mark.parametrize("missing_first", [True, False])
def test_missing_file_exits_2_with_one_error_line(
    files: tuple[Path, Path, Path], tmp_path: Path, missing_first: bool
) -> None:
    a = files[0]
    missing = tmp_path / "nope.whl"
    result = run(*((missing, a) if missing_first else (a, missing)))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith("error:")] == [
        f"error: {missing}: no such file or folder"
    ]
    assert all(line.startswith(("error:", "hint:")) for line in lines)


def test_a_file_and_a_folder_exit_2(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    result = run(files[0], tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {files[0]} is a file and {tmp_path} is a folder\n")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file_exits_2(files: tuple[Path, Path, Path]) -> None:
    a, _, b = files
    b.chmod(0)
    try:
        result = run(a, b)
    finally:
        b.chmod(0o644)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {b}: cannot read")


def test_output_html_and_json_together(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, _, b = files
    page, document = tmp_path / "diff.html", tmp_path / "diff.json"
    result = run(a, b, "--output-html", page, "--output-json", document)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(f"{a} vs {b}")  # stdout still gets --format text
    assert_self_contained(parse(page.read_text(encoding="utf-8")))
    doc = json.loads(document.read_text(encoding="utf-8"))
    tree = load_json(doc)
    assert (tree.source_a, tree.source_b) == (str(a), str(b))
    assert render_json(tree) == doc
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["a.txt", "b.txt", "same.txt", "diff.html", "diff.json"]
    )  # no temporary files left behind


def test_output_into_a_missing_folder_exits_2(
    files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    a, _, b = files
    target = tmp_path / "no" / "such" / "diff.json"
    result = run(a, b, "--output-json", target)
    assert result.returncode == 2
    assert result.stdout == ""
    # refused before the comparison, with a hint
    assert result.stderr.startswith(f"error: {target}: its folder does not exist\nhint: ")
    (tmp_path / "a-file").write_text("")
    result = run(a, b, "--output-html", tmp_path / "a-file" / "diff.html")
    assert result.returncode == 2
    assert "its folder is a file" in result.stderr


def test_format_json_parses_and_loads_back(files: tuple[Path, Path, Path]) -> None:
    a, same, b = files
    result = run(a, b, "--format", "json")
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "diff"
    assert doc["different"] is True and doc["summary"]["counts"]["content"] >= 1
    assert render_json(load_json(doc)) == doc

    same_doc = json.loads(run(a, same, "--format", "json").stdout)
    assert same_doc["different"] is False
    assert load_json(same_doc) == Difference(source_a=str(a), source_b=str(same))


def test_format_html_on_stdout(files: tuple[Path, Path, Path]) -> None:
    a, _, b = files
    result = run(a, b, "--format", "html")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("<!DOCTYPE html>")
    assert_self_contained(parse(result.stdout))


def test_colour_on_a_terminal_unless_no_color(files: tuple[Path, Path, Path]) -> None:
    pty = pytest.importorskip("pty")
    a, _, b = files

    def through_a_terminal(env: dict[str, str]) -> str:
        controller, terminal = pty.openpty()
        environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        environment.update(env)
        with os.fdopen(controller, "rb", buffering=0) as reader:
            process = subprocess.run(
                [sys.executable, "-m", "reprobuild", "diff", str(a), str(b)],
                stdout=terminal,
                stderr=subprocess.PIPE,
                env=environment,
                check=False,
            )
            os.close(terminal)
            assert process.returncode == 1
            chunks = []
            while True:
                try:
                    chunk = reader.read(65536)
                except OSError:  # EIO: the terminal's other end is closed
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        return b"".join(chunks).decode()

    assert "\x1b[" in through_a_terminal({})
    assert "\x1b[" not in through_a_terminal({"NO_COLOR": "1"})


def test_identical_folders_and_exclude(tmp_path: Path) -> None:
    common = {"pkg/__init__.py": b"x = 1\n", "pkg/data/table.csv": b"a,b\n"}
    a = make_folder(
        tmp_path / "a", {**common, "stamp.txt": b"1\n", "pkg/c/__pycache__/m.pyc": b"1"}
    )
    b = make_folder(
        tmp_path / "b", {**common, "stamp.txt": b"2\n", "pkg/c/__pycache__/m.pyc": b"2"}
    )
    assert run(a, a).returncode == 0
    differing = run(a, b, "--exclude", "stamp.txt")
    assert differing.returncode != 0  # the .pyc still differs
    result = run(a, b, "--exclude", "stamp.txt", "--exclude", "__pycache__")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == f"{a} vs {b}\nno differences\n"


def test_wheels_differing_only_in_excluded_members_exit_0(tmp_path: Path) -> None:
    a, b = tmp_path / "a.whl", tmp_path / "b.whl"
    a.write_bytes(make_wheel())
    b.write_bytes(make_wheel(mtime=(2030, 1, 1, 0, 0, 0)))
    different = run(a, b)
    assert different.returncode == 1, different.stderr
    assert different.stdout.splitlines()[-1].endswith("timestamp (inconsequential)")
    result = run(a, b, "--exclude", "*")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "no differences"


def test_different_folders_exit_1(tmp_path: Path) -> None:
    a = make_folder(tmp_path / "a", {"pkg/__init__.py": b"x = 1\n", "pkg/gone.py": b""})
    b = make_folder(tmp_path / "b", {"pkg/__init__.py": b"x = 2\n", "pkg/new.py": b""})
    result = run(a, b, "--format", "json")
    assert result.returncode == 1, result.stderr
    tree = load_json(json.loads(result.stdout))
    assert (tree.source_a, tree.source_b) == (str(a), str(b))
    counts = tree.counts()
    assert counts[Category.CONTENT] >= 1
    assert counts[Category.MISSING] >= 1 and counts[Category.ADDED] >= 1


def test_help_teaches() -> None:
    result = run("--help")
    assert result.returncode == 0
    for expected in ("examples:", "exit codes:", "--output-html", "--exclude", "NO_COLOR"):
        assert expected in result.stdout


def test_help_names_the_categories_as_compare_does() -> None:
    consequential = [c.value for c in Category if c not in INCONSEQUENTIAL]
    inconsequential = [c.value for c in Category if c in INCONSEQUENTIAL]
    assert ", ".join(consequential) == diff_command._CONSEQUENTIAL
    assert ", ".join(inconsequential) == diff_command._INCONSEQUENTIAL
    assert CompareOptions().max_diff_lines == diff_command._DEFAULT_MAX_DIFF_LINES


@pytest.mark.parametrize("value", ["-1", "many"])
def test_bad_max_diff_lines_is_a_usage_error(files: tuple[Path, Path, Path], value: str) -> None:
    result = run(files[0], files[2], "--max-diff-lines", value)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--max-diff-lines" in result.stderr


def test_folders_are_read_as_relative_posix_paths(tmp_path: Path) -> None:
    a = make_folder(
        tmp_path / "a", {"top.txt": b"1\n", "sub/deep/f.py": b"x", "skip.log": b"a", "_b/x": b""}
    )
    b = make_folder(tmp_path / "b", {"top.txt": b"2\n", "sub/deep/f.py": b"x"})
    if hasattr(os, "symlink"):
        (a / "link").symlink_to(a / "top.txt")
    result = run(a, b, "--exclude", "*.log", "--exclude", "_b", "--format", "json")
    assert result.returncode == 1, result.stderr
    tree = load_json(json.loads(result.stdout))
    assert (tree.source_a, tree.source_b) == (str(a), str(b))
    named = {name for node in tree.walk() for name in (node.source_a, node.source_b)}
    assert "top.txt" in named  # the one real difference, by its relative path
    assert not any("skip.log" in n or "_b" in n or "link" in n or "f.py" in n for n in named)
    assert {c.value for c in tree.counts()} == {"content"}


def test_a_report_never_replaces_an_input(files: tuple[Path, Path, Path]) -> None:
    a, _same, b = files
    before = a.read_bytes()
    result = run(a, b, "--output-json", a)
    assert result.returncode == 2
    assert "one of the inputs" in result.stderr
    assert a.read_bytes() == before


def test_exclude_leaves_out_a_folder_inside_an_archive(tmp_path: Path) -> None:
    one = make_wheel(files={"demo/__init__.py": b"x = 1\n"}, mtime=(2020, 1, 1, 0, 0, 0))
    two = make_wheel(files={"demo/__init__.py": b"x = 1\n"}, mtime=(2021, 1, 1, 0, 0, 0))
    (tmp_path / "one.whl").write_bytes(one)
    (tmp_path / "two.whl").write_bytes(two)
    everything = json.loads(
        run(tmp_path / "one.whl", tmp_path / "two.whl", "--format", "json").stdout
    )
    assert any("dist-info" in json.dumps(c) for c in everything["difference"]["children"])
    result = run(
        tmp_path / "one.whl", tmp_path / "two.whl", "--exclude", "*.dist-info", "--format", "json"
    )
    doc = json.loads(result.stdout)
    assert "dist-info/" not in json.dumps(doc["difference"]["children"])
