"""The package index: project pages of the simple repository API and verified downloads."""

from __future__ import annotations

from reprobuild.index.client import IndexClient, default_index_url, release_files
from reprobuild.index.pages import (
    JSON_TYPE,
    IndexFile,
    IndexPageError,
    parse_html_page,
    parse_json_page,
)

__all__ = [
    "JSON_TYPE",
    "IndexClient",
    "IndexFile",
    "IndexPageError",
    "default_index_url",
    "parse_html_page",
    "parse_json_page",
    "release_files",
]
