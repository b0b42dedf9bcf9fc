"""Shared fixtures: one cache folder per session, and an environment with nothing installed.

The empty environment needs no package index (nothing is resolved or installed), so the tests
of hooks with in-tree backends run without the network marker.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reprobuild.frontend import Environment, prepare_environment


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reprobuild-cache")


@pytest.fixture(scope="session")
def empty_env(cache_dir: Path) -> Environment:
    return prepare_environment([], cache_dir=cache_dir)
