"""Who may start processes: third-party build code runs only through the sandboxed runner.

Every module of reprobuild that can start a process is listed here with what it starts; a new
one fails this test until it is listed, so that no build code finds a way around
:func:`reprobuild.frontend.sandbox.run_sandboxed`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import reprobuild

SRC = Path(reprobuild.__file__).parent

#: module -> what it starts (none of them runs a project's build code, but the runner)
ALLOWED = {
    "frontend/sandbox.py": "every backend subprocess, in the sandbox (the one place)",
    "frontend/_landlock.py": "the Landlock launcher's fork of the command it was given",
    "frontend/_run.py": "the installers (uv, pip) on pinned wheels, outside the sandbox",
    "frontend/installers.py": "uv and pip: resolve, create environments, install wheels",
    "frontend/indexes.py": "pip config list, to read pip's index settings",
    "frontend/vcs.py": "git, to read the commit of a checkout",
    "vary/variations.py": "probes of faketime, unshare and taskset, with no project code",
    "vary/run.py": "a pool of reprobuild's own worker processes",
    "cli/_batch.py": "a pool of reprobuild's own worker processes",
    "executors.py": "a pool of reprobuild's own worker processes, or Dask's (graph steps)",
}

_STARTERS = {"subprocess", "multiprocessing", "concurrent.futures", "pty"}
#: what may be taken from concurrent.futures without starting a process: threads and the types
#: every executor shares (a ProcessPoolExecutor, or the module itself, counts as a starter)
_THREADS_ONLY = {"ThreadPoolExecutor", "Executor", "Future", "wait", "as_completed"}
_OS_CALLS = {"system", "popen", "fork", "forkpty", "posix_spawn", "posix_spawnp"}


def _starts_processes(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(
            alias.name.split(".")[0] in _STARTERS or alias.name in _STARTERS for alias in node.names
        ):
            return True
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "concurrent.futures" and all(
                alias.name in _THREADS_ONLY for alias in node.names
            ):
                continue
            if node.module in _STARTERS or node.module.split(".")[0] in _STARTERS:
                return True
            if any(f"{node.module}.{alias.name}" in _STARTERS for alias in node.names):
                return True  # from concurrent import futures
            if node.module == "os" and any(
                a.name in _OS_CALLS or a.name.startswith(("exec", "spawn")) for a in node.names
            ):
                return True
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and (node.attr in _OS_CALLS or node.attr.startswith(("exec", "spawn")))
        ):
            return True
    return False


def test_only_the_listed_modules_start_processes() -> None:
    found = {
        path.relative_to(SRC).as_posix()
        for path in sorted(SRC.rglob("*.py"))
        if _starts_processes(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert found == set(ALLOWED), (
        f"start processes but are not listed: {sorted(found - set(ALLOWED))}; "
        f"listed but start none: {sorted(set(ALLOWED) - found)}"
    )


def test_hooks_run_through_the_sandbox() -> None:
    """The PEP 517 hook runner hands its command to run_sandboxed, and starts nothing itself."""
    text = (SRC / "frontend" / "hooks.py").read_text(encoding="utf-8")
    assert "run_sandboxed(" in text
    assert not _starts_processes(ast.parse(text))


def test_threads_alone_are_no_process() -> None:
    threads = "from concurrent.futures import Executor, Future, ThreadPoolExecutor\n"
    assert not _starts_processes(ast.parse(threads))
    for starter in (
        "from concurrent.futures import ProcessPoolExecutor\n",
        "from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor\n",
        "from concurrent.futures import *\n",
        "import concurrent.futures\n",
        "from concurrent import futures\n",
    ):
        assert _starts_processes(ast.parse(starter)), starter
