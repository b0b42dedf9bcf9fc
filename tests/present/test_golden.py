"""Golden renderings of the hand-built trees in tests/present/trees.py: text (no colour), JSON
and HTML, compared byte for byte with the files under tests/golden/present/.

After an intended change to a presenter, regenerate them and review the diff:

    REPROBUILD_REGEN_GOLDEN=1 python -m pytest tests/present/test_golden.py

The tool's version is stored as ``{version}``, so a release does not touch the golden files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from reprobuild import __version__
from reprobuild.compare.difference import Difference
from reprobuild.present import render_html, render_json, render_text
from tests.present.trees import TREES

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "present"
REGENERATE = os.environ.get("REPROBUILD_REGEN_GOLDEN") == "1"
PLACEHOLDER = "{version}"

#: the text rendering caps diffs at 10 lines, so the golden files show the cut too
MAX_DIFF_LINES = 10


def _text(diff: Difference) -> str:
    return render_text(diff, colour=False, max_diff_lines=MAX_DIFF_LINES)


def _json(diff: Difference) -> str:
    return json.dumps(render_json(diff), indent=2) + "\n"  # as the command writes it


FORMATS: dict[str, Callable[[Difference], str]] = {
    "txt": _text,
    "json": _json,
    "html": render_html,
}


@pytest.mark.parametrize("extension", sorted(FORMATS))
@pytest.mark.parametrize("name", sorted(TREES))
def test_golden(name: str, extension: str) -> None:
    rendered = FORMATS[extension](TREES[name])
    assert PLACEHOLDER not in rendered
    rendered = rendered.replace(__version__, PLACEHOLDER)
    path = GOLDEN / f"{name}.{extension}"
    if REGENERATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered, encoding="utf-8", newline="\n")
    assert path.exists(), f"{path} is missing: run with REPROBUILD_REGEN_GOLDEN=1 to create it"
    assert rendered == path.read_text(encoding="utf-8")


def test_no_stray_golden_files() -> None:
    expected = {f"{name}.{extension}" for name in TREES for extension in FORMATS}
    assert {p.name for p in GOLDEN.iterdir()} == expected
