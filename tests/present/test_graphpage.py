"""The graph's HTML page: made from the report's JSON, every status shown, text escaped."""

from __future__ import annotations

from reprobuild.present.graphpage import render_graph_html
from tests.present.htmlcheck import assert_self_contained, parse


def _doc() -> dict[str, object]:
    return {
        "schema_version": 1,
        "executor": "pool",
        "seconds": 1.5,
        "exclude_newer": "2026-11-01T00:00:00+00:00",
        "builds": 2,
        "counts": {"cache-hit": 1, "rebuilt-unchanged": 1, "failed": 1},
        "seeds": [{"name": "alpha", "version": "1.0", "reason": "needed to build <itself>"}],
        "nodes": [
            {
                "id": "base:wheel",
                "deps": ["base:sdist"],
                "status": "rebuilt-unchanged",
                "cut_off": 3,
                "changed": ["inputs.sdist"],
                "seconds": 0.4,
                "outputs": [{"name": "base-1.0-py3-none-any.whl", "sha256": "ab" * 32}],
            },
            {"id": "mid:sdist", "deps": ["base:wheel"], "status": "cache-hit", "outputs": []},
            {
                "id": "<script>:wheel",
                "deps": [],
                "status": "failed",
                "error": "the backend said <b>no</b>\nsecond line",
            },
        ],
    }


def test_every_step_is_a_row_with_its_status_and_why() -> None:
    page = render_graph_html(_doc())  # type: ignore[arg-type]
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert_self_contained(parse(page))  # balanced, known tags only, nothing fetched
    assert page.count("<tr><td>") == 3
    assert "rebuilt, unchanged" in page and "cut off 3 dependents" in page
    assert "changed: inputs.sdist" in page
    assert "abababababababab" in page  # the digest, shortened
    assert "Builds: 2, where rebuilding everything would run 3." in page
    assert "alpha 1.0: needed to build &lt;itself&gt;" in page


def test_text_is_escaped() -> None:
    page = render_graph_html(_doc())  # type: ignore[arg-type]
    assert "<script>:wheel" not in page and "&lt;script&gt;:wheel" in page
    assert "<b>no</b>" not in page
    assert "second line" not in page  # an error shows its first line
