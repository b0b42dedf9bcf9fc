"""The graph of build steps: which step needs the output of which.

A *workspace* is a set of local projects. Each gives two steps: its sdist, made from its source
tree, and its wheel, made from that sdist. A project whose ``[build-system] requires`` names
another project of the workspace (a shared build plugin, say) builds with that project's wheel
installed, so both of its steps depend on that wheel. A *bundle* step makes one archive of
every wheel of the workspace, to show a step whose inputs are other steps' outputs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reprobuild.errors import ProjectError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    from reprobuild._types import JSONValue
    from reprobuild.index.pages import IndexFile

__all__ = ["Node", "Plan", "plan_workspace"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    """One step of the graph. ``id`` is unique (``NAME:sdist``, ``NAME:wheel``, ``bundle``;
    ``NAME==VERSION:wheel`` and ``NAME==VERSION:seed`` for releases from the index); ``deps``
    are the ids of the steps whose outputs it needs; ``project`` the project folder (sdist and
    wheel steps); ``requires`` the project's build requirements, with ``workspace_requires``
    the ids of the wheel steps of those that are workspace projects.

    A ``release`` step builds the wheel of ``name`` ``version`` from ``sdist_file``, the
    sdist the index lists, in an environment installed only from the wheels of its ``deps``
    (``pins`` names those that resolve its static build requirements, the others are offered
    for what its backend asks for at build time). A ``seed`` step takes the published wheel
    ``seed_file`` instead, for the ``reason`` given; a release step with a ``seed_file``
    falls back to it when its build fails. ``problem`` says why a release cannot be built at
    all (the step fails with it)."""

    id: str
    kind: Literal["sdist", "wheel", "bundle", "release", "seed"]
    name: str
    deps: tuple[str, ...] = ()
    project: Path | None = None
    requires: tuple[str, ...] = ()
    workspace_requires: tuple[str, ...] = ()
    version: str = ""
    sdist_file: IndexFile | None = None
    seed_file: IndexFile | None = None
    pins: tuple[str, ...] = ()
    reason: str = ""
    problem: str = ""

    def to_json(self) -> dict[str, JSONValue]:
        out: dict[str, JSONValue] = {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "deps": list(self.deps),
            "project": str(self.project) if self.project else None,
        }
        if self.kind in ("release", "seed"):
            out["version"] = self.version
            out["reason"] = self.reason or None
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The steps in an order where every step comes after the steps it needs."""

    nodes: tuple[Node, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for node in self.nodes:
            missing = [d for d in node.deps if d not in seen]
            if node.id in seen or missing:
                raise UsageError(f"the steps are not in build order at {node.id}")
            seen.add(node.id)

    @property
    def by_id(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    def dependents(self) -> dict[str, set[str]]:
        """Every step's dependents, direct or not, by id."""
        direct: dict[str, set[str]] = {n.id: set() for n in self.nodes}
        for node in self.nodes:
            for dep in node.deps:
                direct[dep].add(node.id)
        out: dict[str, set[str]] = {}
        for node in reversed(self.nodes):
            out[node.id] = set(direct[node.id])
            for child in direct[node.id]:
                out[node.id] |= out[child]
        return out

    def depth(self) -> int:
        """The number of steps on the longest chain."""
        level: dict[str, int] = {}
        for node in self.nodes:
            level[node.id] = 1 + max((level[d] for d in node.deps), default=0)
        return max(level.values(), default=0)


def _project_name(folder: Path) -> str:
    from packaging.utils import canonicalize_name

    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProjectError(
                f"pyproject.toml does not parse: {exc}", path=str(pyproject)
            ) from exc
        name = data.get("project", {}).get("name")
        if isinstance(name, str) and name:
            return canonicalize_name(name)
    return canonicalize_name(folder.resolve().name)


def _requirement_names(requires: Sequence[str]) -> dict[str, str]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    out: dict[str, str] = {}
    for text in requires:
        try:
            out[text] = canonicalize_name(Requirement(text).name)
        except InvalidRequirement:
            continue
    return out


def plan_workspace(folders: Sequence[Path], *, bundle: bool = False) -> Plan:
    """The steps of the projects in ``folders``: each one's sdist and wheel, in build order,
    and with ``bundle`` one step that bundles every wheel. Refuses two projects of one name and
    a cycle of build requirements (naming it)."""
    from reprobuild.frontend import read_build_system

    projects: dict[str, Path] = {}
    requires: dict[str, tuple[str, ...]] = {}
    for given in folders:
        folder = Path(given)
        if not folder.is_dir():
            raise UsageError("not a project folder", path=str(folder))
        try:
            system = read_build_system(folder)
        except ProjectError as exc:
            raise exc.with_path(str(folder)) from None
        name = _project_name(folder)
        if name in projects:
            raise UsageError(
                f"two projects are called {name}: {projects[name]} and {folder}",
                path=str(folder),
            )
        projects[name] = folder.resolve()
        requires[name] = tuple(system.requires)
    needs: dict[str, list[str]] = {
        name: sorted({n for n in _requirement_names(requires[name]).values() if n in projects})
        for name in projects
    }
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, chain: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*chain[chain.index(name) :], name]
            raise UsageError(
                "the workspace's build requirements form a cycle: " + " › ".join(cycle),
                hint="a project cannot be built with its own wheel installed",
            )
        state[name] = 1
        for dep in needs[name]:
            visit(dep, [*chain, name])
        state[name] = 2
        order.append(name)

    for name in sorted(projects):
        visit(name, [])
    nodes: list[Node] = []
    for name in order:
        wheels = tuple(f"{dep}:wheel" for dep in needs[name])
        for kind, deps in (("sdist", wheels), ("wheel", (f"{name}:sdist", *wheels))):
            nodes.append(
                Node(
                    id=f"{name}:{kind}",
                    kind="sdist" if kind == "sdist" else "wheel",
                    name=name,
                    deps=deps,
                    project=projects[name],
                    requires=requires[name],
                    workspace_requires=wheels,
                )
            )
    if bundle and order:
        nodes.append(
            Node(
                id="bundle",
                kind="bundle",
                name="bundle",
                deps=tuple(f"{name}:wheel" for name in sorted(order)),
            )
        )
    return Plan(nodes=tuple(nodes))


def workspace_members(root: Path) -> list[Path]:
    """The project folders under ``root``: ``root`` itself when it is a project without
    ``[tool.uv.workspace]``; else the folders its ``[tool.uv.workspace] members`` globs name;
    else every folder directly under it that holds a ``pyproject.toml`` or ``setup.py``."""
    root = Path(root)
    pyproject = root / "pyproject.toml"
    data: Mapping[str, object] = {}
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProjectError(
                f"pyproject.toml does not parse: {exc}", path=str(pyproject)
            ) from exc
    tool = data.get("tool")
    uv = tool.get("uv") if isinstance(tool, dict) else None
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    if isinstance(workspace, dict):
        members = workspace.get("members", [])
        found = sorted(
            {p for pattern in members if isinstance(pattern, str) for p in root.glob(pattern)}
        )
        out = [p for p in found if p.is_dir()]
        if "build-system" in data or "project" in data:
            out.insert(0, root)
        return out
    if pyproject.is_file() or (root / "setup.py").is_file():
        return [root]
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and ((p / "pyproject.toml").is_file() or (p / "setup.py").is_file())
    )
