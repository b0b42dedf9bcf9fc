"""What the pure packages may reach, who may print, and import cycles: checked on the source.

DESIGN.md: ``archive``, ``dist``, ``normalize``, ``compare`` and ``present`` are pure, with no
clock, environment, network, subprocess or randomness; only ``cli`` prints, reads input or
exits. This module reads the source with :mod:`ast` and follows every way a name gets bound:

- ``import os``, ``import os as o``, ``import os.path as p``, ``from os import environ as e``,
  relative imports, ``importlib.import_module("os")``, ``__import__("os")``,
  ``sys.modules["os"]``;
- assignments of those (``e = os.environ``, ``d = datetime.datetime``), anywhere in the module;
- attribute chains off them (``o.path.expanduser``) and ``getattr(o, "environ")`` with a literal
  name.

A name is then checked by what it is, not by how it is spelt: ``from time import time as now``
is ``time.time``. What cannot be followed is refused rather than trusted: a module object such as
``os`` passed around as a value, ``getattr`` or ``import_module`` with a name that is not a
literal, ``from os import *``, ``eval`` and ``exec``. Methods that read the environment whatever
they are called on (``.expanduser()``, ``.now()``, ``.home()``...) are refused on any receiver,
since the check does not know the types of values.

The pure packages are checked together with every module of reprobuild they import, directly or
not (today ``_fs``, ``_text``, ``_types``, ``errors``, ``report`` and the package's
``__init__``): a helper is no way around the rule. The few uses that are needed there are listed
in :data:`ALLOWED`, each for one function, with the reason next to it.

The same reading of imports finds import cycles between single modules (:func:`cycles`),
which import-linter's ``acyclic_siblings`` contract does not see when they pass through a
package's own ``__init__``; the one known today is listed in :data:`CYCLE_EDGES`.

Run: ``python -m tests.purity`` (exit 1 and one line per violation).
"""

from __future__ import annotations

import ast
import builtins
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import reprobuild

__all__ = [
    "ALLOWED",
    "CLI_ONLY",
    "CYCLE_EDGES",
    "IMPURE",
    "PURE",
    "Violation",
    "check_source",
    "check_tree",
    "cycles",
    "main",
]

SRC = Path(reprobuild.__file__).parent
PACKAGE = "reprobuild"

#: The pure packages (top-level modules of reprobuild).
PURE = ("archive", "dist", "normalize", "compare", "present")

#: What the pure packages may not reach: a module (and everything in it) or one name in it.
IMPURE: Mapping[str, str] = {
    # subprocesses
    "subprocess": "subprocess",
    "multiprocessing": "subprocess",
    "concurrent": "subprocess",
    "pty": "subprocess",
    "os.system": "subprocess",
    "os.popen": "subprocess",
    "os.fork": "subprocess",
    "os.forkpty": "subprocess",
    "os.posix_spawn": "subprocess",
    "os.posix_spawnp": "subprocess",
    "os.kill": "subprocess",
    "os.killpg": "subprocess",
    "os.exec*": "subprocess",
    "os.spawn*": "subprocess",
    "ctypes": "subprocess",  # a foreign function reaches anything: getenv, time, fork
    # network
    "socket": "network",
    "ssl": "network",
    "http": "network",
    "urllib": "network",
    "ftplib": "network",
    "smtplib": "network",
    "xmlrpc": "network",
    "socketserver": "network",
    "asyncio": "network",
    "selectors": "network",
    "webbrowser": "network",
    "requests": "network",
    "httpx": "network",
    "urllib3": "network",
    # randomness
    "random": "randomness",
    "secrets": "randomness",
    "uuid.uuid1": "randomness",
    "uuid.uuid4": "randomness",
    "uuid.getnode": "environment",
    "os.urandom": "randomness",
    "os.getrandom": "randomness",
    # clock (and the local time zone, which is the environment's)
    "time.time": "clock",
    "time.time_ns": "clock",
    "time.monotonic": "clock",
    "time.monotonic_ns": "clock",
    "time.perf_counter": "clock",
    "time.perf_counter_ns": "clock",
    "time.process_time": "clock",
    "time.process_time_ns": "clock",
    "time.thread_time": "clock",
    "time.thread_time_ns": "clock",
    "time.clock_gettime": "clock",
    "time.clock_gettime_ns": "clock",
    "time.localtime": "clock",
    "time.ctime": "clock",
    "time.mktime": "clock",
    "time.tzset": "clock",
    "time.tzname": "clock",
    "time.timezone": "clock",
    "time.altzone": "clock",
    "time.daylight": "clock",
    "datetime.datetime.now": "clock",
    "datetime.datetime.utcnow": "clock",
    "datetime.datetime.today": "clock",
    "datetime.date.today": "clock",
    "datetime.date.fromtimestamp": "clock",
    "zoneinfo": "environment",  # the machine's time zone database
    # environment: variables, process, user, machine, working folder
    "os.environ": "environment",
    "os.environb": "environment",
    "os.getenv": "environment",
    "os.getenvb": "environment",
    "os.putenv": "environment",
    "os.unsetenv": "environment",
    "os.getpid": "environment",
    "os.getppid": "environment",
    "os.getuid": "environment",
    "os.geteuid": "environment",
    "os.getgid": "environment",
    "os.getegid": "environment",
    "os.getgroups": "environment",
    "os.getlogin": "environment",
    "os.uname": "environment",
    "os.cpu_count": "environment",
    "os.process_cpu_count": "environment",
    "os.sched_getaffinity": "environment",
    "os.getloadavg": "environment",
    "os.get_terminal_size": "environment",
    "os.times": "environment",
    "os.umask": "environment",
    "os.getcwd": "environment",
    "os.getcwdb": "environment",
    "os.chdir": "environment",
    "os.path.expanduser": "environment",
    "os.path.expandvars": "environment",
    "os.path.abspath": "environment",
    "pathlib.Path.home": "environment",
    "pathlib.Path.cwd": "environment",
    "pathlib.Path.expanduser": "environment",
    "pathlib.Path.absolute": "environment",
    "shutil.which": "environment",
    "shutil.get_terminal_size": "environment",
    "sys.argv": "environment",
    "sys.orig_argv": "environment",
    "sys.stdin": "environment",
    "sys.modules": "environment",  # a module by a name the check cannot follow
    "locale": "environment",
    "platform": "environment",
    "sysconfig": "environment",
    "getpass": "environment",
    "pwd": "environment",
    "grp": "environment",
    "importlib.metadata": "environment",  # what happens to be installed
    "tempfile": "environment",  # TMPDIR, and names made at random
    # reprobuild's own: reads the environment, for the command line only
    "reprobuild._fs.default_cache_dir": "environment",
}

#: Calls that read the clock only when an argument is left out: name -> least arguments.
CLOCK_WITHOUT_ARGUMENT: Mapping[str, int] = {
    "time.gmtime": 1,
    "time.asctime": 1,
    "time.strftime": 2,
}

#: Calls that use the local time zone unless ``tz`` is given (second argument or keyword).
LOCAL_WITHOUT_TZ = frozenset({"datetime.datetime.fromtimestamp"})

#: Methods that read the environment or the clock whatever object they are called on; the
#: check does not know the types of values, so these are refused on any receiver.
IMPURE_METHODS: Mapping[str, str] = {
    "expanduser": "environment",
    "expandvars": "environment",
    "home": "environment",
    "cwd": "environment",
    "getcwd": "environment",
    "getenv": "environment",
    "getpid": "environment",
    "urandom": "randomness",
    "now": "clock",
    "utcnow": "clock",
    "today": "clock",
}

#: Module objects that must not be passed around as values: their attributes would escape.
WATCHED_MODULES = frozenset(
    {
        "os",
        "os.path",
        "time",
        "datetime",
        "sys",
        "uuid",
        "shutil",
        "pathlib",
        "builtins",
        "importlib",
    }
)

#: Builtins only ``cli`` may call (DESIGN.md: the only place that prints, reads argv or exits).
CLI_ONLY = frozenset(
    {"builtins.print", "builtins.input", "builtins.exit", "builtins.quit", "builtins.breakpoint"}
)

#: What the pure packages, and what they import, may use after all: (file under
#: src/reprobuild, function) -> (names, reason). Keep it small; every entry must be in use.
ALLOWED: Mapping[tuple[str, str], tuple[frozenset[str], str]] = {
    ("archive/spool.py", "Spool._open"): (
        frozenset({"tempfile"}),
        "the spool for members too large to hold in memory (DESIGN.md: memory stays bounded): "
        "the file is unlinked as soon as it is made, so only its bytes are used; where it "
        "lives (TMPDIR) and its random name never reach a result",
    ),
    ("_fs.py", "atomic_write"): (
        frozenset({"os.getpid"}),
        "names the temporary file an atomic write is renamed from, so that two processes "
        "writing the same path do not meet; the name is gone once the write is done",
    ),
    ("_fs.py", "default_cache_dir"): (
        frozenset({"os.environ", "pathlib.Path.home", "*.expanduser"}),
        "the default cache folder, for the command line only: the pure packages may not call "
        "it (reprobuild._fs.default_cache_dir is in IMPURE)",
    ),
}


@dataclass(frozen=True, slots=True)
class Violation:
    """One use of a name the rules refuse, where it is."""

    path: str
    line: int
    function: str
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def _matches(name: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern or name.startswith(pattern + ".")


def _impure(name: str) -> str | None:
    """What ``name`` reaches (``clock``, ``environment``...), or None when it is pure."""
    return next((what for pattern, what in IMPURE.items() if _matches(name, pattern)), None)


def _module_of(path: Path) -> str:
    """The dotted module name of a file under :data:`SRC`."""
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


class _Bindings:
    """Every name a module binds to something the check can name, anywhere in the module.

    Bindings are kept per module, not per scope, and a name bound twice keeps both meanings:
    a use is refused when any of them is.
    """

    def __init__(self, tree: ast.Module, module: str, *, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.names: dict[str, set[str]] = {}
        self.imported: list[tuple[ast.stmt, str, str]] = []  #: (node, module, bound name)
        self.stars: list[tuple[ast.ImportFrom, str]] = []
        self.assignments: list[tuple[str, ast.expr]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self._bind(alias.asname, alias.name)
                        self.imported.append((node, alias.name, alias.name))
                    else:
                        top = alias.name.partition(".")[0]
                        self._bind(top, top)
                        self.imported.append((node, alias.name, alias.name))
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node)
                for alias in node.names:
                    if alias.name == "*":
                        self.stars.append((node, base))
                        continue
                    self._bind(alias.asname or alias.name, f"{base}.{alias.name}")
                    self.imported.append((node, base, f"{base}.{alias.name}"))
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.assignments.append((target.id, node.value))
            elif (
                isinstance(node, ast.AnnAssign | ast.NamedExpr)
                and node.value is not None
                and isinstance(node.target, ast.Name)
            ):
                self.assignments.append((node.target.id, node.value))
        # an assignment of an assignment (x = os; y = x): follow until nothing changes
        changed = True
        while changed:
            changed = False
            for name, value in self.assignments:
                for meaning in self.resolve(value):
                    changed |= self._bind(name, meaning)

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = self.package.split(".")
        base = parts[: len(parts) - (node.level - 1)]
        return ".".join([*base, node.module] if node.module else base)

    def _bind(self, name: str, meaning: str) -> bool:
        meanings = self.names.setdefault(name, set())
        if meaning in meanings:
            return False
        meanings.add(meaning)
        return True

    def resolve(self, node: ast.expr) -> set[str]:
        """The dotted names ``node`` may stand for (empty: a value the check cannot name)."""
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return set(self.names[node.id])
            if hasattr(builtins, node.id):
                return {f"builtins.{node.id}"}
            return set()
        if isinstance(node, ast.Attribute):
            return {f"{base}.{node.attr}" for base in self.resolve(node.value)}
        if isinstance(node, ast.Subscript):
            key = _literal(node.slice)
            if key is not None and "sys.modules" in self.resolve(node.value):
                return {key}
            return set()
        if isinstance(node, ast.Call):
            function = self.resolve(node.func)
            name = _literal(node.args[1]) if len(node.args) >= 2 else None
            if "builtins.getattr" in function and name is not None:
                return {f"{base}.{name}" for base in self.resolve(node.args[0])}
            first = _literal(node.args[0]) if node.args else None
            if "importlib.import_module" in function and first is not None:
                if first.startswith("."):
                    return set()
                return {first}
            if "builtins.__import__" in function and first is not None:
                # the top package without a fromlist, the module itself with one
                return {first, first.partition(".")[0]}
        return set()


def _literal(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class _Checker(ast.NodeVisitor):
    """Walks one module and collects what it must not use."""

    def __init__(self, tree: ast.Module, path: str, module: str, *, is_package: bool, pure: bool):
        self.bindings = _Bindings(tree, module, is_package=is_package)
        self.path = path
        self.pure = pure
        self.cli = module.split(".")[1:2] in (["cli"], ["__main__"])
        self.function: list[str] = []
        self.found: list[Violation] = []
        self.parents: dict[ast.AST, ast.AST] = {
            child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)
        }
        self.annotations: set[ast.AST] = set()
        for node in ast.walk(tree):
            for annotation in _annotations_of(node):
                self.annotations.update(ast.walk(annotation))

    def report(self, node: ast.AST, name: str, reason: str) -> None:
        self.found.append(
            Violation(
                path=self.path,
                line=getattr(node, "lineno", 0),
                function=".".join(self.function),
                name=name,
                reason=reason,
            )
        )

    # scopes, for the allow-list
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    # imports
    def visit_Import(self, node: ast.Import) -> None:
        self._check_imports(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._check_imports(node)
        for star, base in self.bindings.stars:
            if star is node and self.pure:
                self.report(node, f"{base}.*", f"from {base} import *: what it binds is unknown")

    def _check_imports(self, node: ast.stmt) -> None:
        if not self.pure:
            return
        for imported, module, bound in self.bindings.imported:
            if imported is not node:
                continue
            for name in dict.fromkeys((module, bound)):
                what = _impure(name)
                if what is not None:
                    self.report(node, name, f"imports {name} ({what})")
                    break

    # names, attributes and calls
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and node not in self.annotations:
            self._check_expression(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load) and node not in self.annotations:
            self._check_expression(node)
            if self.pure and node.attr in IMPURE_METHODS and not self.bindings.resolve(node):
                what = IMPURE_METHODS[node.attr]
                self.report(node, f"*.{node.attr}", f"calls .{node.attr}() ({what})")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if node not in self.annotations:
            self._check_expression(node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        self._check_expression(node)
        if self.pure:
            self._check_call(node)
        self.generic_visit(node)

    def _check_expression(self, node: ast.expr) -> None:
        """Refuse ``node`` when it names something impure and the part it is made of does not
        (so that ``os.environ.get`` is one violation, at ``os.environ``)."""
        names = self.bindings.resolve(node)
        if not self.cli and (names & CLI_ONLY):
            name = min(names & CLI_ONLY)
            self.report(node, name, f"only cli may call {name.removeprefix('builtins.')}()")
            return
        if not self.pure:
            return
        inner: ast.expr | None = None
        if isinstance(node, ast.Attribute | ast.Subscript):
            inner = node.value
        elif isinstance(node, ast.Call) and node.args:
            inner = node.args[0]
        if inner is not None and any(_impure(n) for n in self.bindings.resolve(inner)):
            return
        for name in sorted(names):
            what = _impure(name)
            if what is not None:
                self.report(node, name, f"uses {name} ({what})")
                return
        self._check_escape(node, names)

    def _check_escape(self, node: ast.expr, names: set[str]) -> None:
        """Refuse a watched module object used other than by one of its attributes."""
        watched = names & WATCHED_MODULES
        if not watched:
            return
        parent = self.parents.get(node)
        if isinstance(parent, ast.Attribute) and parent.value is node:
            return
        if isinstance(parent, ast.Assign | ast.AnnAssign | ast.NamedExpr) and all(
            isinstance(target, ast.Name) for target in _targets(parent)
        ):
            return  # followed by the bindings
        if (
            isinstance(parent, ast.Call)
            and len(parent.args) >= 2
            and parent.args[0] is node
            and _literal(parent.args[1]) is not None
            and self.bindings.resolve(parent.func) & {"builtins.getattr", "builtins.hasattr"}
        ):
            return  # getattr(os, "name"): resolved by the bindings
        name = min(watched)
        self.report(node, name, f"passes the module {name} around: its use cannot be followed")

    def _check_call(self, node: ast.Call) -> None:
        function = self.bindings.resolve(node.func)
        if function & {"builtins.eval", "builtins.exec"}:
            self.report(node, "builtins.eval", "eval or exec: what it runs cannot be followed")
        if function & {"builtins.getattr", "importlib.import_module", "builtins.__import__"}:
            dynamic = (
                len(node.args) < 2 or _literal(node.args[1]) is None
                if "builtins.getattr" in function
                else not node.args or _literal(node.args[0]) is None
            )
            if dynamic and not ("builtins.getattr" in function and not self._watched(node)):
                self.report(node, min(function), "a name that is not a literal cannot be followed")
        for name in function:
            least = CLOCK_WITHOUT_ARGUMENT.get(name)
            if least is not None and len(node.args) < least:
                self.report(node, name, f"calls {name} without the time: it reads the clock")
            tz = len(node.args) >= 2 or any(k.arg == "tz" for k in node.keywords)
            if name in LOCAL_WITHOUT_TZ and not tz:
                self.report(node, name, f"calls {name} without tz: the local time zone")

    def _watched(self, node: ast.Call) -> bool:
        """Whether ``getattr``'s object is a module whose attributes are checked."""
        if not node.args:
            return True
        names = self.bindings.resolve(node.args[0])
        return bool(names & WATCHED_MODULES) or any(
            pattern.startswith(f"{name}.") for name in names for pattern in IMPURE
        )


def _targets(node: ast.Assign | ast.AnnAssign | ast.NamedExpr) -> list[ast.expr]:
    return list(node.targets) if isinstance(node, ast.Assign) else [node.target]


def _annotations_of(node: ast.AST) -> Iterator[ast.expr]:
    """The annotations on ``node`` (never evaluated: every module has ``from __future__ import
    annotations``)."""
    if isinstance(node, ast.arg) and node.annotation is not None:
        yield node.annotation
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
        yield node.returns
    elif isinstance(node, ast.AnnAssign):
        yield node.annotation


def check_source(
    source: str, *, module: str = "reprobuild.archive.snippet", pure: bool = True
) -> list[Violation]:
    """The violations in ``source``, as the module ``module`` (pure or not), before the
    allow-list."""
    tree = ast.parse(source)
    checker = _Checker(tree, module, module, is_package=False, pure=pure)
    checker.visit(tree)
    return checker.found


def _files() -> dict[str, Path]:
    """Every module of reprobuild by dotted name."""
    return {_module_of(path): path for path in sorted(SRC.rglob("*.py"))}


def _imports_of(path: Path, module: str, files: Mapping[str, Path]) -> set[str]:
    """The modules of reprobuild ``path`` imports, with the packages above each."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    bindings = _Bindings(tree, module, is_package=path.name == "__init__.py")
    found: set[str] = set()
    for _node, imported, bound in bindings.imported:
        for name in (imported, bound):
            parts = name.split(".")
            found.update(
                ".".join(parts[:n])
                for n in range(1, len(parts) + 1)
                if ".".join(parts[:n]) in files
            )
    return found


def _reached(files: Mapping[str, Path]) -> set[str]:
    """The pure packages' modules and every module of reprobuild they import, directly or not."""
    todo = [m for m in files if m.split(".")[1:2] and m.split(".")[1] in PURE]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_imports_of(files[module], module, files) - seen)
    return seen


#: Imports a module-level cycle may go through for now, each with its reason: (importer,
#: imported). Keep it small; every entry must be in use.
CYCLE_EDGES: Mapping[tuple[str, str], str] = {
    ("reprobuild.compare", "reprobuild.compare.registry"): (
        "compare() loads the registry of comparators when first called, and every comparator "
        "imports Context and Item from the package: moving those into a module of their own "
        "ends the cycle"
    ),
    ("reprobuild.compare", "reprobuild.compare.comparator"): (
        "the Comparator protocol, imported when asked for (and for typing); it names Context "
        "and Item from the package for typing only"
    ),
}


def _direct_imports(path: Path, module: str, files: Mapping[str, Path]) -> set[str]:
    """The modules of reprobuild ``path`` names in its imports (``from p import name``: ``p``,
    or ``p.name`` when that is a module), wherever the import is, without the packages above."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    bindings = _Bindings(tree, module, is_package=path.name == "__init__.py")
    found: set[str] = set()
    for _node, imported, bound in bindings.imported:
        parts = bound.split(".")
        longest = next(
            (".".join(parts[:n]) for n in range(len(parts), 0, -1) if ".".join(parts[:n]) in files),
            None,
        )
        if longest is not None and longest != module:
            found.add(longest)
        elif imported in files and imported != module:
            found.add(imported)
    return found


def cycles(edges_allowed: Mapping[tuple[str, str], str] = CYCLE_EDGES) -> list[list[str]]:
    """Every import cycle between single modules of reprobuild (strongly connected sets of more
    than one module), once the imports in ``edges_allowed`` are set aside. import-linter's
    ``acyclic_siblings`` contract sees cycles between the children of a package; this also sees
    those that pass through a package's own ``__init__``."""
    files = _files()
    graph = {
        module: sorted(
            target
            for target in _direct_imports(path, module, files)
            if (module, target) not in edges_allowed
        )
        for module, path in files.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph):  # Tarjan's algorithm, without recursion
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            module, next_child = work.pop()
            if next_child == 0:
                index[module] = low[module] = len(index)
                stack.append(module)
            children = graph[module]
            if next_child < len(children):
                work.append((module, next_child + 1))
                child = children[next_child]
                if child not in index:
                    work.append((child, 0))
                elif child in stack:
                    low[module] = min(low[module], index[child])
                continue
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
    return found


def check_tree(
    allowed: Mapping[tuple[str, str], tuple[frozenset[str], str]] = ALLOWED,
) -> tuple[list[Violation], set[tuple[str, str, str]]]:
    """The violations in reprobuild's source after the allow-list, and the allow-list entries
    (file, function, name) that were used."""
    files = _files()
    reached = _reached(files)
    found: list[Violation] = []
    used: set[tuple[str, str, str]] = set()
    for module, path in files.items():
        relative = path.relative_to(SRC).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        checker = _Checker(
            tree,
            f"src/{PACKAGE}/{relative}",
            module,
            is_package=path.name == "__init__.py",
            pure=module in reached,
        )
        checker.visit(tree)
        for violation in checker.found:
            names, _reason = allowed.get((relative, violation.function), (frozenset(), ""))
            if violation.name in names:
                used.add((relative, violation.function, violation.name))
            else:
                found.append(violation)
    return found, used


def _unused(used: Iterable[tuple[str, str, str]]) -> list[str]:
    taken = set(used)
    return [
        f"ALLOWED[{path!r}, {function!r}] lists {name}, which it no longer uses"
        for (path, function), (names, _reason) in ALLOWED.items()
        for name in sorted(names)
        if (path, function, name) not in taken
    ]


def problems() -> list[str]:
    """Every violation in reprobuild's source, every import cycle, and every stale allow-list
    entry."""
    found, used = check_tree()
    stale_edges = [
        f"CYCLE_EDGES lists {a} -> {b}, which is no longer imported"
        for a, b in CYCLE_EDGES
        if b not in _direct_imports(_files()[a], a, _files())
    ]
    loops = [f"import cycle: {' -> '.join(component)}" for component in cycles()]
    return [str(v) for v in found] + loops + _unused(used) + stale_edges


def main() -> int:
    lines = problems()
    for line in lines:
        print(line)
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
