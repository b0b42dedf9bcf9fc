"""Helpers for the front-end tests: tiny projects written to disk, in-tree backends, retries."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from reprobuild.errors import BuildError

__all__ = ["HATCH_PYPROJECT", "INTREE_BACKEND", "retry_once", "write_tree"]

T = TypeVar("T")

HATCH_PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "rb-hatch-demo"
version = "1.0"
description = "A tiny project built by reprobuild's front-end tests"
requires-python = ">=3.8"

[tool.hatch.build.targets.wheel]
packages = ["src/rb_hatch_demo"]
"""

#: A backend kept inside the project (backend-path), so that building needs nothing installed.
#: ``build_wheel`` writes a JSON file (named like a wheel) with the environment it ran in and
#: its umask; ``MODE`` in the environment makes it fail or misbehave on purpose.
INTREE_BACKEND = textwrap.dedent(
    """\
    import json
    import os
    import sys


    def _mode():
        return os.environ.get("MODE", "")


    def get_requires_for_build_wheel(config_settings=None):
        return ["example-extra>=1"] if _mode() == "extra" else []


    def build_sdist(sdist_directory, config_settings=None):
        print("making the sdist")
        name = "intree-1.0.tar.gz"
        with open(os.path.join(sdist_directory, name), "w") as handle:
            handle.write("not really an sdist")
        return name


    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        mode = _mode()
        for number in range(100):
            print(f"compiling part {number}")
        if mode == "raise":
            half = os.path.join(wheel_directory, "intree-1.0-py3-none-any.whl")
            with open(half, "w") as handle:
                handle.write("half a wheel")
            raise RuntimeError("boom: the build broke on purpose")
        if mode == "exit":
            sys.exit(7)
        if mode == "missing":
            return "nothing-1.0-py3-none-any.whl"
        if mode == "vanish":
            sys.stdout.flush()
            os._exit(0)
        if mode == "warn":
            import warnings

            warnings.warn("this backend is old", UserWarning, stacklevel=1)
        umask = os.umask(0)
        os.umask(umask)
        name = "intree-1.0-py3-none-any.whl"
        with open(os.path.join(wheel_directory, name), "w") as handle:
            json.dump(
                {
                    "environ": dict(os.environ),
                    "umask": umask,
                    "cwd": os.getcwd(),
                    "config_settings": config_settings,
                },
                handle,
            )
        return name
    """
)


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` (relative path -> text) under ``root``; return ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def retry_once(call: Callable[[], T]) -> T:
    """Run ``call``; when it fails with a BuildError (an index that did not answer, a dropped
    connection), run it once more. A failure that is not transient fails twice."""
    try:
        return call()
    except BuildError:
        return call()
