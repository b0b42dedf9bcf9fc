"""JSON: reordered lists and keys are metadata-order; everything else is content."""

from __future__ import annotations

import json

from reprobuild.compare import Category
from tests.compare.helpers import categories, check_golden, diff
from tests.factories import make_tar_bz2, make_zip

#: The seed's conda example: ``info/test/test_time_dependencies.json``, written from a set.
DEPENDENCIES_A = [
    "matplotlib",
    "nbformat",
    "pygments",
    "ipykernel",
    "nose >=0.10.1",
    "trio",
    "numpy",
    "pip",
    "testpath",
    "requests",
]
DEPENDENCIES_B = [
    "requests",
    "numpy",
    "matplotlib",
    "trio",
    "testpath",
    "pip",
    "pygments",
    "nbformat",
    "ipykernel",
    "nose >=0.10.1",
]
TEST_TIME = "info/test/test_time_dependencies.json"


def _conda_files(dependencies: list[str]) -> dict[str, bytes]:
    return {
        "info/index.json": b'{"name": "demo", "version": "1.0", "build": "py_0"}',
        TEST_TIME: json.dumps(dependencies).encode(),
        "site-packages/demo/__init__.py": b"x = 1\n",
    }


def test_conda_package_with_a_reordered_list_is_inconsequential() -> None:
    a = make_tar_bz2(_conda_files(DEPENDENCIES_A))
    b = make_tar_bz2(_conda_files(DEPENDENCIES_B))
    found = diff(a, b, "demo-1.0-py_0.tar.bz2")
    assert found is not None
    assert categories(found) == {Category.METADATA_ORDER}
    assert found.inconsequential
    assert found.summary() == "1 metadata-order (inconsequential)"
    (leaf,) = found.leaves()
    assert leaf.source_a == f"{TEST_TIME} › $"


def test_the_same_in_a_zip() -> None:
    a = make_zip(_conda_files(DEPENDENCIES_A))
    b = make_zip(_conda_files(DEPENDENCIES_B))
    found = diff(a, b, "demo-1.0-py_0.zip")
    assert categories(found) == {Category.METADATA_ORDER}


def test_a_list_with_another_element_is_content() -> None:
    a = json.dumps(DEPENDENCIES_A).encode()
    b = json.dumps([*DEPENDENCIES_B[:-1], "nose"]).encode()
    found = diff(a, b, "deps.json")
    assert categories(found) == {Category.CONTENT}


def test_nested_reorder_is_found_at_its_path() -> None:
    a = json.dumps({"depends": ["a", "b"], "name": "x", "extra": {"keys": [1, 2, 3]}}).encode()
    b = json.dumps({"depends": ["a", "b"], "name": "x", "extra": {"keys": [3, 1, 2]}}).encode()
    found = diff(a, b, "info/index.json")
    assert found is not None
    assert [leaf.source_a for leaf in found.leaves()] == ["info/index.json › $.extra.keys"]


def test_key_order_is_metadata_order() -> None:
    found = diff(b'{"a": 1, "b": 2}', b'{"b": 2, "a": 1}', "x.json")
    assert categories(found) == {Category.METADATA_ORDER}


def test_formatting_only_is_content() -> None:
    found = diff(b'{"a": [1, 2]}\n', b'{\n  "a": [1, 2]\n}\n', "x.json")
    assert found is not None and categories(found) == {Category.CONTENT}
    assert found.comment == "the same JSON value, formatted differently"


def test_a_number_type_change_is_content() -> None:
    assert categories(diff(b'{"a": 1}', b'{"a": 1.0}', "x.json")) == {Category.CONTENT}
    assert categories(diff(b'{"a": true}', b'{"a": 1}', "x.json")) == {Category.CONTENT}


def test_invalid_json_falls_back_to_text() -> None:
    found = diff(b'{"a": 1', b'{"a": 2', "x.json")
    assert found is not None and found.comment is not None
    assert found.comment.startswith("not comparable as json:")
    assert found.unified_diff is not None


def test_deeply_nested_json_does_not_raise() -> None:
    a = b"[" * 100_000 + b"]" * 100_000
    b = b"[" * 100_001 + b"]" * 100_001
    found = diff(a, b, "deep.json")
    assert found is not None and categories(found) == {Category.CONTENT}


def test_golden_json() -> None:
    a = {
        "name": "demo",
        "version": "1.0",
        "depends": ["python >=3.8", "numpy", "requests"],
        "license": "MIT",
    }
    b = {
        "name": "demo",
        "version": "1.0.post1",
        "depends": ["requests", "python >=3.8", "numpy"],
        "license": "MIT",
    }
    found = diff(json.dumps(a).encode(), json.dumps(b).encode(), "info/index.json")
    check_golden("json", found)


def test_golden_conda_package() -> None:
    a = make_tar_bz2(_conda_files(DEPENDENCIES_A))
    b = make_tar_bz2(_conda_files(DEPENDENCIES_B))
    check_golden("conda_order", diff(a, b, "demo-1.0-py_0.tar.bz2"))
