"""JSON documents: every one carries ``schema_version`` and the tool's name and version."""

from __future__ import annotations

from reprobuild import __version__
from reprobuild._types import JSONValue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.normalize import Normalized

__all__ = ["SCHEMA_VERSION", "JSONValue", "envelope", "normalize_entry"]

SCHEMA_VERSION = 1


def envelope(command: str, body: dict[str, JSONValue]) -> dict[str, JSONValue]:
    """Wrap ``body`` with the fields every reprobuild JSON document has."""
    doc: dict[str, JSONValue] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "reprobuild", "version": __version__},
        "command": command,
    }
    doc.update(body)
    return doc


def normalize_entry(
    path: str, result: Normalized, *, output: str | None, written: bool
) -> dict[str, JSONValue]:
    """One file of ``reprobuild normalize --format json``."""
    return {
        "path": path,
        "kind": result.kind.value,
        "canonical": result.canonical,
        "changed": not result.canonical,
        "output": output,
        "written": written,
        "rules": [
            {
                "rule": r.rule,
                "touches": r.touches,
                "count": len(r.members),
                "members": list(r.members),
            }
            for r in result.reports
        ],
    }
