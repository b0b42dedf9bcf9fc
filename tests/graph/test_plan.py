"""The graph's plan and its actions' keys, with no build: the order of the steps, the refusals
(a cycle, two projects of one name), uv workspaces, and what changes a key."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.actions import Action, changed_fields
from reprobuild.errors import UsageError
from reprobuild.graph.plan import plan_workspace, workspace_members


def _project(folder: Path, name: str, requires: list[str]) -> Path:
    folder.mkdir(parents=True)
    quoted = ", ".join(f'"{r}"' for r in requires)
    (folder / "pyproject.toml").write_text(
        f'[build-system]\nrequires = [{quoted}]\nbuild-backend = "flit_core.buildapi"\n\n'
        f'[project]\nname = "{name}"\nversion = "1.0"\n'
    )
    return folder


def test_steps_come_after_the_wheels_they_build_with(tmp_path: Path) -> None:
    top = _project(tmp_path / "top", "Top_Pkg", ["flit_core", "mid-pkg>=1"])
    mid = _project(tmp_path / "mid", "mid.pkg", ["flit_core", "base"])
    base = _project(tmp_path / "base", "base", ["flit_core"])
    plan = plan_workspace([top, mid, base], bundle=True)
    ids = [n.id for n in plan.nodes]
    assert ids == [
        "base:sdist",
        "base:wheel",
        "mid-pkg:sdist",
        "mid-pkg:wheel",
        "top-pkg:sdist",
        "top-pkg:wheel",
        "bundle",
    ]
    by_id = plan.by_id
    assert by_id["mid-pkg:sdist"].deps == ("base:wheel",)
    assert by_id["mid-pkg:wheel"].deps == ("mid-pkg:sdist", "base:wheel")
    assert by_id["bundle"].deps == ("base:wheel", "mid-pkg:wheel", "top-pkg:wheel")
    assert plan.depth() == 7  # base sdist > base wheel > mid sdist > ... > top wheel > bundle
    assert plan.dependents()["base:wheel"] == {
        "mid-pkg:sdist",
        "mid-pkg:wheel",
        "top-pkg:sdist",
        "top-pkg:wheel",
        "bundle",
    }


def test_a_cycle_of_build_requirements_is_refused_and_named(tmp_path: Path) -> None:
    a = _project(tmp_path / "a", "a", ["b"])
    b = _project(tmp_path / "b", "b", ["a"])
    with pytest.raises(UsageError, match="cycle: a › b › a"):
        plan_workspace([a, b])


def test_two_projects_of_one_name_are_refused(tmp_path: Path) -> None:
    one = _project(tmp_path / "one", "same", [])
    two = _project(tmp_path / "two", "Same", [])
    with pytest.raises(UsageError, match="two projects are called same"):
        plan_workspace([one, two])


def test_a_folder_that_is_not_a_project_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a project folder"):
        plan_workspace([tmp_path / "missing"])


def test_workspace_members_from_uv_or_from_subfolders(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    for name in ("b", "a"):
        _project(root / "packages" / name, name, [])
    (root / "packages" / "notes.txt").write_text("not a project")
    assert workspace_members(root) == [root / "packages" / "a", root / "packages" / "b"]
    assert workspace_members(root / "packages") == [
        root / "packages" / "a",
        root / "packages" / "b",
    ]
    assert workspace_members(root / "packages" / "a") == [root / "packages" / "a"]


def _action(**changes: object) -> Action:
    fields: dict[str, object] = {
        "kind": "wheel",
        "label": "demo wheel",
        "inputs": {"sdist": "a" * 64},
        "environment": ("flit-core==3.9.0 --hash=sha256:" + "b" * 64,),
        "settings": {"exclude_newer": "2026-11-01T00:00:00+00:00"},
        "interpreter": "cpython-3.11.7",
        "platform": "linux-x86_64",
        "sandbox": "bwrap",
    }
    fields.update(changes)
    return Action(**fields)  # type: ignore[arg-type]


def test_the_key_is_stable_and_ignores_the_label() -> None:
    assert _action().key == _action().key
    assert _action(label="another name").key == _action().key
    assert len(_action().key) == 64


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"inputs": {"sdist": "c" * 64}}, ["inputs.sdist"]),
        (
            {"environment": ("flit-core==3.10.0 --hash=sha256:" + "d" * 64,)},
            ["environment: flit-core"],
        ),
        ({"settings": {"exclude_newer": "2026-12-01T00:00:00+00:00"}}, ["settings.exclude_newer"]),
        ({"interpreter": "cpython-3.12.1"}, ["interpreter"]),
        ({"platform": "linux-aarch64"}, ["platform"]),
        ({"sandbox": "none"}, ["sandbox"]),
        ({"canonical_version": "2"}, ["canonical_version"]),
        ({"kind": "sdist"}, ["kind"]),
    ],
)
def test_every_input_of_the_output_changes_the_key_and_is_named(
    change: dict[str, object], named: list[str]
) -> None:
    changed = _action(**change)
    assert changed.key != _action().key
    assert changed_fields(_action().document(), changed.document()) == named
