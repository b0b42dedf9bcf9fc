"""Check that imports inside reprobuild point down the layers (README, "Library"), and that the pure
modules reach for no clock, environment, network or subprocess.

Run: python .ci/layers.py   (exit 1 and one line per violation when the layering is broken)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = "reprobuild"
SRC = Path(__file__).resolve().parent.parent / "src" / PACKAGE

#: top-level module of the package -> layer (imports may only go to the same or a lower layer)
LAYERS: dict[str, int] = {
    "__init__": 0,
    "errors": 0,
    "_types": 0,
    "_fs": 0,
    "_text": 0,
    "archive": 1,
    "dist": 1,
    "normalize": 2,
    "compare": 2,
    "frontend": 2,
    "index": 2,
    "cache": 2,
    "executors": 2,
    "actions": 3,
    "strategy": 3,
    "present": 3,
    "report": 3,
    "buildinfo": 3,
    "build": 4,
    "rebuild": 4,
    "vary": 4,
    "graph": 4,
    "dedup": 4,
    "cli": 5,
    "__main__": 5,
}
#: within a layer, these may not import those (L1: dist builds on archive, never the reverse)
FORBIDDEN_SIDEWAYS = {("archive", "dist")}
PURE = {"archive", "dist", "normalize", "compare", "present"}
IMPURE_MODULES = {
    "subprocess",
    "socket",
    "urllib",
    "http",
    "asyncio",
    "multiprocessing",
    "requests",
    "httpx",
    "random",
    "secrets",
}
IMPURE_NAMES = {
    ("os", "environ"),
    ("os", "getenv"),
    ("time", "time"),
    ("time", "time_ns"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
    ("os", "urandom"),
    ("os", "system"),
    ("os", "popen"),
}


def top_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def imported(tree: ast.AST, path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    package_parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


def check() -> list[str]:
    problems: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        top = top_of(path)
        if top not in LAYERS:
            problems.append(
                f"{path.relative_to(SRC.parent)}: module {top!r} has no layer; "
                "add it to .ci/layers.py and DESIGN.md"
            )
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, module in imported(tree, path):
            parts = module.split(".")
            if parts[0] == PACKAGE and len(parts) > 1:
                target = parts[1]
                if target not in LAYERS or target == top:
                    continue
                if LAYERS[target] > LAYERS[top] or (top, target) in FORBIDDEN_SIDEWAYS:
                    problems.append(
                        f"{path.relative_to(SRC.parent)}:{line}: {top} (L{LAYERS[top]}) "
                        f"imports {target} (L{LAYERS[target]}): imports must point down"
                    )
            elif top in PURE and parts[0] in IMPURE_MODULES:
                problems.append(
                    f"{path.relative_to(SRC.parent)}:{line}: pure module {top} imports {module}"
                )
        if top in PURE:
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and (node.value.id, node.attr) in IMPURE_NAMES
                ):
                    problems.append(
                        f"{path.relative_to(SRC.parent)}:{node.lineno}: pure "
                        f"module {top} uses {node.value.id}.{node.attr}"
                    )
        if top not in {"cli", "__main__"}:
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in {"print", "exit", "input"}
                ):
                    problems.append(
                        f"{path.relative_to(SRC.parent)}:{node.lineno}: only cli "
                        f"may call {node.func.id}()"
                    )
    return problems


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem)
    if not problems:
        print(f"layers: ok ({sum(1 for _ in SRC.rglob('*.py'))} modules)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
