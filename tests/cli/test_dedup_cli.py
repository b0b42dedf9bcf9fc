"""``reprobuild dedup`` as a user runs it: a real subprocess, real packages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from reprobuild.dedup import RULES
from tests.dedup.data import conda_data
from tests.factories import make_wheel


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reprobuild", "dedup", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_list_rules_names_every_rule_with_its_version() -> None:
    text = run("--list-rules")
    assert text.returncode == 0, text.stderr
    for rule in RULES:
        assert f"{rule.name} v{rule.version}" in text.stdout
    doc = json.loads(run("--list-rules", "--format", "json").stdout)
    assert doc["schema_version"] == 1 and doc["tool"]["name"] == "reprobuild"
    assert [r["rule"] for r in doc["rules"]] == [r.name for r in RULES]


def test_the_shared_conda_packages_group_and_exit_1() -> None:
    found = run(conda_data(), "--format", "json")
    assert found.returncode == 1, found.stderr
    doc = json.loads(found.stdout)
    groups = {lv["level"]: lv["groups"] for lv in doc["levels"]}
    assert groups == {"bytes": 27, "members": 21, "canonical": 21, "payload": 20}
    assert len(doc["packages"]) == 27 and doc["apart"]
    text = run(conda_data(), "--level", "members")
    assert "members: 6 groups of more than one" in text.stdout
    assert "payload: 7 groups" not in text.stdout


def test_html_is_one_page() -> None:
    page = run(conda_data() / "archives", "--format", "html")
    assert page.returncode == 1
    assert page.stdout.startswith("<!DOCTYPE html>") and "python-path" in page.stdout
    assert "<script src" not in page.stdout


def test_packages_that_do_not_group_exit_0(tmp_path: Path) -> None:
    (tmp_path / "a-1.0-py3-none-any.whl").write_bytes(make_wheel("a"))
    (tmp_path / "b-1.0-py3-none-any.whl").write_bytes(make_wheel("b"))
    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 packages" in done.stdout


def test_a_damaged_package_is_named_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    source = conda_data() / "archives" / "conda-index-pkg-a-1.0-py27h5e241af_0.conda"
    broken = tmp_path / source.name
    broken.write_bytes(source.read_bytes()[:3000])
    done = run(broken)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {broken}")
    assert "Traceback" not in done.stderr


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    for args in ((tmp_path / "notes.txt",), (tmp_path / "missing",), ()):
        done = run(*args)
        assert done.returncode == 2 and done.stderr.startswith("error:"), args


def test_store_and_materialize_bit_for_bit(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in [*sorted((conda_data() / "archives").iterdir()), conda_data() / "hotfix"]:
        if path.is_dir():
            shutil.copytree(path, inputs / path.name)
        else:
            shutil.copy(path, inputs / path.name)
    wheel = inputs / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(make_wheel(files={"demo/__init__.py": b"x = 1\n" * 100}))
    store = tmp_path / "store"
    done = run(inputs, "--store", store, "--format", "json")
    assert done.returncode == 1, done.stderr
    stored = json.loads(done.stdout)["stored"]
    layouts = {Path(p["path"]).name: p["layout"] for p in stored["packages"]}
    assert layouts[wheel.name] == "zip"
    assert layouts["conda-index-pkg-a-1.0-py27h5e241af_0.tar.bz2"] == "tar.bz2"
    for item in stored["packages"]:
        out = tmp_path / "out"
        done = run("--store", store, "--materialize", item["sha256"], "--output", out)
        assert done.returncode == 0, done.stderr
        assert out.read_bytes() == Path(item["path"]).read_bytes()
    missing = run("--store", store, "--materialize", "0" * 64, "--output", tmp_path / "x")
    assert missing.returncode == 3 and missing.stderr.startswith("error:")
