"""scan_tree, tree_digest and first_difference on real folders: what is recorded of each entry,
that links are never followed, and that changing exactly one thing changes the digest and is
named by first_difference."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reprobuild.frontend.envdigest import (
    Change,
    EntryKind,
    TreeEntry,
    first_difference,
    parse_entries,
    render_entries,
    scan_tree,
    tree_digest,
)


def make_tree(root: Path) -> Path:
    """A small folder like an environment: scripts, a package, a link to the interpreter."""
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "tool").write_text("#!/bin/sh\necho tool\n")
    (root / "bin" / "tool").chmod(0o755)
    (root / "bin" / "python").symlink_to("/usr/bin/python3")
    site = root / "lib" / "site-packages"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    (site / "pkg" / "__init__.py").chmod(0o644)
    (site / "empty").mkdir()
    (root / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "pyvenv.cfg").chmod(0o644)
    for folder in (root, root / "bin", site.parent, site, site / "pkg", site / "empty"):
        folder.chmod(0o755)
    return root


def test_what_is_recorded(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "env")
    entries = {entry.path: entry for entry in scan_tree(root)}
    assert list(entries) == sorted(entries)
    assert set(entries) == {
        ".",
        "bin",
        "bin/python",
        "bin/tool",
        "lib",
        "lib/site-packages",
        "lib/site-packages/empty",
        "lib/site-packages/pkg",
        "lib/site-packages/pkg/__init__.py",
        "pyvenv.cfg",
    }
    assert entries["."] == TreeEntry(path=".", kind=EntryKind.DIR, mode=0o755, value="")
    assert entries["bin/tool"] == TreeEntry(
        path="bin/tool",
        kind=EntryKind.FILE,
        mode=0o755,
        value=hashlib.sha256(b"#!/bin/sh\necho tool\n").hexdigest(),
    )
    link = entries["bin/python"]
    assert (link.kind, link.value) == (EntryKind.SYMLINK, "/usr/bin/python3")
    assert entries["lib/site-packages/pkg/__init__.py"].mode == 0o644


def test_links_are_recorded_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.pth").write_text("import os\n")
    root = make_tree(tmp_path / "env")
    (root / "lib" / "linked").symlink_to(outside, target_is_directory=True)
    (root / "lib" / "dangling").symlink_to(tmp_path / "nowhere")
    entries = {entry.path: entry for entry in scan_tree(root)}
    assert entries["lib/linked"].kind is EntryKind.SYMLINK
    assert entries["lib/linked"].value == str(outside)
    assert entries["lib/dangling"].value == str(tmp_path / "nowhere")
    assert not any(path.startswith("lib/linked/") for path in entries)


def test_a_pipe_is_recorded_without_being_read(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "env")
    os.mkfifo(root / "fifo", 0o600)
    (entry,) = [e for e in scan_tree(root) if e.path == "fifo"]
    assert entry == TreeEntry(path="fifo", kind=EntryKind.OTHER, mode=0o600, value="")


def test_same_contents_elsewhere_same_digest(tmp_path: Path) -> None:
    a = make_tree(tmp_path / "a")
    b = make_tree(tmp_path / "elsewhere" / "b")
    os.utime(b / "pyvenv.cfg", (0, 0))  # times are not recorded
    assert scan_tree(a) == scan_tree(b)
    assert tree_digest(scan_tree(a)) == tree_digest(scan_tree(b))


def _plant(root: Path) -> None:
    (root / "lib" / "site-packages" / "evil.pth").write_text("import os\n")


def _edit(root: Path) -> None:
    (root / "lib" / "site-packages" / "pkg" / "__init__.py").write_text("VALUE = 2\n")


def _chmod(root: Path) -> None:
    (root / "lib" / "site-packages" / "pkg" / "__init__.py").chmod(0o666)


def _chmod_folder(root: Path) -> None:
    (root / "lib" / "site-packages").chmod(0o777)


def _retarget_link(root: Path) -> None:
    (root / "bin" / "python").unlink()
    (root / "bin" / "python").symlink_to("/tmp/python3")


def _file_to_link(root: Path) -> None:
    (root / "pyvenv.cfg").unlink()
    (root / "pyvenv.cfg").symlink_to("/etc/hostname")


def _remove(root: Path) -> None:
    (root / "bin" / "tool").unlink()


def _add_folder(root: Path) -> None:
    (root / "lib" / "site-packages" / "newpkg").mkdir()


KNOBS: dict[str, tuple[Callable[[Path], None], Change, str]] = {
    "planted .pth": (_plant, Change.ADDED, "lib/site-packages/evil.pth"),
    "content": (_edit, Change.CHANGED, "lib/site-packages/pkg/__init__.py"),
    "file mode": (_chmod, Change.CHANGED, "lib/site-packages/pkg/__init__.py"),
    "folder mode": (_chmod_folder, Change.CHANGED, "lib/site-packages"),
    "link target": (_retarget_link, Change.CHANGED, "bin/python"),
    "file made a link": (_file_to_link, Change.CHANGED, "pyvenv.cfg"),
    "removed file": (_remove, Change.REMOVED, "bin/tool"),
    "added folder": (_add_folder, Change.ADDED, "lib/site-packages/newpkg"),
}


@pytest.mark.parametrize("knob", list(KNOBS))
def test_one_change_is_found_and_named(tmp_path: Path, knob: str) -> None:
    change, expected, path = KNOBS[knob]
    control = scan_tree(make_tree(tmp_path / "control"))
    experiment_root = make_tree(tmp_path / "experiment")
    change(experiment_root)
    experiment = scan_tree(experiment_root)
    assert tree_digest(experiment) != tree_digest(control)
    difference = first_difference(control, experiment)
    assert difference is not None
    assert (difference.change, difference.path) == (expected, path)
    assert str(difference) == f"{expected.value} {path}"
    assert first_difference(control, control) is None


def test_first_difference_is_first_in_path_order(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "env")
    before = scan_tree(root)
    _plant(root)
    _remove(root)  # bin/tool sorts before lib/...
    difference = first_difference(before, scan_tree(root))
    assert difference is not None
    assert (difference.change, difference.path) == (Change.REMOVED, "bin/tool")


def test_render_and_parse_round_trip(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "env")
    # a name that is not UTF-8, and one with a newline, each have one spelling
    (root / os.fsdecode(b"caf\xe9")).write_bytes(b"latin-1 name")
    (root / "two\nlines").write_bytes(b"")
    entries = scan_tree(root)
    text = render_entries(entries)
    assert text.isascii()
    assert parse_entries(json.loads(text)) == entries
    assert tree_digest(parse_entries(json.loads(text))) == tree_digest(entries)


@pytest.mark.parametrize(
    "document", [{"a": 1}, [["x", "file", "644", ""]], [["x", "socket", 0, ""]], [["x"]]]
)
def test_parse_rejects_what_is_not_a_list_of_entries(document: object) -> None:
    with pytest.raises(ValueError):
        parse_entries(document)


def test_a_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        scan_tree(tmp_path / "missing")
