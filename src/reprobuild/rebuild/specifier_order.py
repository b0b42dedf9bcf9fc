"""Version specifiers written in a set's order: a difference another hash seed can remove.

The ``wheel`` package before 0.30 wrote each requirement's version specifiers (``py
(<2.0.0,>=1.4.26)``) in the order ``pkg_resources`` gave them, which iterated a set of
specifiers: the order of the publisher's ``PYTHONHASHSEED``, in METADATA's ``Requires-Dist``
and in metadata.json's ``requires`` lists alike (measured on ``requires_to_requires_dist``:
0.29.0 joins them as given, 0.30.0 sorts them). When that order is all that differs, a
rebuild with another hash seed can give the published bytes, as for METADATA fields written
from a set (see :func:`reprobuild.rebuild.verify_wheel`).
"""

from __future__ import annotations

import json
import re

from reprobuild._types import Buffer
from reprobuild.archive import parse_archive
from reprobuild.compare.difference import Category, Difference
from reprobuild.dist import dist_info_text
from reprobuild.errors import ReprobuildError

__all__ = ["specifier_order"]

#: the specifiers of a requirement written ``name (<2,>=1)``
_IN_PARENTHESES = re.compile(r"\(([^()]*)\)")
#: ... or ``name[extra]<2,>=1`` (PEP 508 without parentheses)
_BARE = re.compile(r"^(\s*[A-Za-z0-9._\-]+\s*(?:\[[^\]]*\])?\s*)([<>=!~].*)$")

#: the .dist-info files whose requirements are compared
_FILES = ("METADATA", "metadata.json")


def _specifiers(requirement: str) -> tuple[str, list[str], str]:
    """``requirement`` (its part before ``;``) as the text before its specifiers, the
    specifiers, and the text after them."""
    match = _IN_PARENTHESES.search(requirement)
    if match is not None:
        return requirement[: match.start(1)], match[1].split(","), requirement[match.end(1) :]
    bare = _BARE.match(requirement)
    if bare is not None:
        return bare[1], bare[2].split(","), ""
    return requirement, [], ""


def _in_order(value: str) -> tuple[str, int]:
    """``value`` (a requirement, with its marker) with its specifiers sorted, and how many it
    has."""
    requirement, sep, marker = value.partition(";")
    before, specifiers, after = _specifiers(requirement)
    ordered = ",".join(sorted(s.strip() for s in specifiers))
    return before + ordered + after + sep + marker, len(specifiers)


def _metadata_in_order(text: str) -> tuple[str, int]:
    """METADATA's text with each Requires-Dist's specifiers sorted, and the most specifiers
    one requirement has."""
    head, sep, body = text.partition("\n\n")
    lines = []
    most = 0
    for line in head.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == "requires-dist":
            ordered, count = _in_order(value)
            most = max(most, count)
            lines.append(f"{key}:{ordered}")
        else:
            lines.append(line)
    return "\n".join(lines) + sep + body, most


def _json_in_order(text: str) -> tuple[str, int] | None:
    """metadata.json with the specifiers of every requirement in a ``requires`` list sorted,
    as canonical JSON, and the most specifiers one has; None when it does not parse."""
    most = 0

    def walk(node: object, key: str = "") -> object:
        nonlocal most
        if isinstance(node, dict):
            return {k: walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            items: list[object] = []
            for item in node:
                if key == "requires" and isinstance(item, str):
                    ordered, count = _in_order(item)
                    most = max(most, count)
                    items.append(ordered)
                else:
                    items.append(walk(item))
            return items
        return node

    try:
        document = json.loads(text)
    except ValueError:
        return None
    return json.dumps(walk(document), sort_keys=True), most


def _only_in_requirements(difference: Difference) -> bool:
    """Whether every difference is in METADATA, metadata.json or RECORD's rows (their hashes)."""
    for node in difference.walk():
        if node.category is None:
            continue
        if node.category is Category.CONTENT and node.source_a.endswith(".dist-info/RECORD"):
            continue
        if any(f".dist-info/{name}" in node.source_a for name in _FILES):
            continue
        return False
    return True


def specifier_order(difference: Difference | None, published: Buffer, rebuilt: Buffer) -> int:
    """The most version specifiers of one requirement, when the published and the rebuilt
    wheel differ only in the order of requirements' specifiers (in METADATA's Requires-Dist and
    metadata.json's ``requires``; RECORD's hashes of those follow); 0 otherwise."""
    if difference is None or not _only_in_requirements(difference):
        return 0
    try:
        wheels = (parse_archive(published), parse_archive(rebuilt))
    except ReprobuildError:
        return 0
    most = 0
    changed = False
    for name in _FILES:
        texts = [dist_info_text(wheel, name) for wheel in wheels]
        if texts[0] == texts[1]:
            continue
        published_text, rebuilt_text = texts
        if published_text is None or rebuilt_text is None:
            return 0
        changed = True
        a, b = _file_in_order(name, published_text), _file_in_order(name, rebuilt_text)
        if a is None or b is None or a[0] != b[0]:
            return 0
        most = max(most, a[1])
    return most if changed else 0


def _file_in_order(name: str, text: str) -> tuple[str, int] | None:
    """The .dist-info file ``name``'s text with its requirements' specifiers sorted (see
    :func:`_metadata_in_order`, :func:`_json_in_order`)."""
    return _metadata_in_order(text) if name == "METADATA" else _json_in_order(text)
