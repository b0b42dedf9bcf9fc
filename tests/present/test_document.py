"""render_json / load_json: the document's shape, the exact round trip, and bad documents."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

import pytest
from hypothesis import given

from reprobuild import __version__
from reprobuild.compare.difference import Category, Difference
from reprobuild.present import DocumentError, load_json, render_json
from reprobuild.report import SCHEMA_VERSION, JSONValue
from tests.present.trees import TREES, differences

NODE_KEYS = {"source_a", "source_b", "category", "unified_diff", "comment", "children"}


@given(differences())
def test_round_trip_is_exact(tree: Difference) -> None:
    assert load_json(render_json(tree)) == tree


@given(differences())
def test_round_trip_through_json_text(tree: Difference) -> None:
    doc = json.loads(json.dumps(render_json(tree)))
    assert load_json(doc) == tree
    assert render_json(load_json(doc)) == doc


@pytest.mark.parametrize("name", sorted(TREES))
def test_hand_built_trees_round_trip(name: str) -> None:
    assert load_json(render_json(TREES[name])) == TREES[name]


def _nodes(node: JSONValue) -> list[dict[str, JSONValue]]:
    assert isinstance(node, dict)
    children = node["children"]
    assert isinstance(children, list)
    return [node, *(n for child in children for n in _nodes(child))]


def test_envelope_and_shape() -> None:
    tree = TREES["wheel"]
    doc = render_json(tree)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["tool"] == {"name": "reprobuild", "version": __version__}
    assert doc["command"] == "diff"
    assert doc["different"] is True
    for node in _nodes(doc["difference"]):
        assert set(node) == NODE_KEYS
    summary = doc["summary"]
    assert isinstance(summary, dict)
    assert summary["counts"] == {
        "timestamp": 1,
        "order": 0,
        "permissions": 0,
        "ownership": 0,
        "compression": 0,
        "container": 0,
        "metadata-order": 1,
        "content": 2,
        "missing": 1,
        "added": 1,
    }
    assert summary["inconsequential"] is False
    assert summary["text"] == tree.summary()


def test_counts_list_every_category_in_enum_order() -> None:
    doc = render_json(TREES["identical"])
    summary = doc["summary"]
    assert isinstance(summary, dict)
    counts = summary["counts"]
    assert isinstance(counts, dict)
    assert list(counts) == [c.value for c in Category]
    assert set(counts.values()) == {0}
    assert summary["inconsequential"] is True
    assert doc["different"] is False


def test_different_when_any_node_has_a_category() -> None:
    assert render_json(Difference(source_a="a", source_b="b"))["different"] is False
    assert render_json(TREES["excluded-only"])["different"] is False
    assert render_json(TREES["sdist-inconsequential"])["different"] is True
    leaf = Difference(source_a="a", source_b="b", category=Category.ORDER)
    assert render_json(leaf)["different"] is True


def _doc() -> dict[str, JSONValue]:
    return copy.deepcopy(render_json(TREES["wheel"]))


def _child(doc: dict[str, JSONValue], index: int) -> dict[str, JSONValue]:
    root = doc["difference"]
    assert isinstance(root, dict)
    children = root["children"]
    assert isinstance(children, list)
    child = children[index]
    assert isinstance(child, dict)
    return child


def test_summary_is_derived_and_ignored_when_reading() -> None:
    doc = _doc()
    doc["summary"] = None
    assert load_json(doc) == TREES["wheel"]


def test_unknown_keys_are_ignored_and_missing_optional_keys_default() -> None:
    doc = _doc()
    child = _child(doc, 4)
    child["future_field"] = 1
    del child["unified_diff"]
    del child["children"]
    assert load_json(doc) == TREES["wheel"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "schema_version 2 is not 1"),
        (lambda d: d.update(schema_version="1"), "schema_version: missing"),
        (lambda d: d.update(schema_version=True), "schema_version: missing"),
        (lambda d: d.update(command="normalize"), "command: expected 'diff'"),
        (lambda d: d.pop("difference"), "difference: missing"),
        (lambda d: d.update(difference=[]), "difference: expected an object, got a list"),
        (lambda d: _child(d, 0).update(category="colour"), "children[0].category: 'colour'"),
        (lambda d: _child(d, 1).update(source_a=None), "children[1].source_a: expected a str"),
        (lambda d: _child(d, 2).update(comment=3), "children[2].comment: expected a string"),
        (lambda d: _child(d, 3).update(children={}), "children[3].children: expected a list"),
    ],
)
def test_bad_documents_name_the_field(
    change: Callable[[dict[str, JSONValue]], object], message: str
) -> None:
    doc = _doc()
    change(doc)
    with pytest.raises(DocumentError) as caught:
        load_json(doc)
    assert message in str(caught.value)


def test_not_an_object() -> None:
    with pytest.raises(DocumentError, match="expected a JSON object, got a list"):
        load_json([])  # type: ignore[arg-type]
