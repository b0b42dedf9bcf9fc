"""Reading a buildinfo record: a damaged one is refused with the field named, not its value."""

from __future__ import annotations

from typing import Any

import pytest

from reprobuild.buildinfo import outputs_of, pins_of
from reprobuild.errors import UsageError

HASH = "sha256:" + "0" * 64


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "environments": {
            "wheel": {"requirements": [{"name": "hatchling", "version": "1.0", "hashes": [HASH]}]}
        },
        "outputs": [{"filename": "demo-1.0.tar.gz", "sha256": "0" * 64, "size": 10}],
    }
    doc.update(changes)
    return doc


def test_a_sound_record_reads() -> None:
    (output,) = outputs_of(_doc(), path="r.json")
    assert (output.filename, output.size) == ("demo-1.0.tar.gz", 10)
    (pin,) = pins_of(_doc(), path="r.json")["wheel"]
    assert (pin.name, pin.version) == ("hatchling", "1.0")


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"outputs": [{"filename": 3}]}, "buildinfo outputs[0] needs"),
        ({"outputs": ["x"]}, "buildinfo outputs[0] is not an object"),
        (
            {"environments": {"wheel": {"requirements": [{"name": "h", "version": {"x": 1}}]}}},
            "buildinfo environments.wheel.requirements[0] needs",
        ),
    ],
)
def test_a_damaged_field_is_named(changes: dict[str, Any], where: str) -> None:
    with pytest.raises(UsageError) as caught:
        outputs_of(_doc(**changes), path="r.json")
        pins_of(_doc(**changes), path="r.json")
    message = str(caught.value)
    assert where in message
    assert "{" not in message  # the field's value is not dumped
    assert caught.value.hint and "build again" in caught.value.hint
