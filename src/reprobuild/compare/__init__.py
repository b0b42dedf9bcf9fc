"""Explain every difference between two inputs: ``compare(a, b, options) -> Difference | None``.

An ordered registry of comparators, one format per module, is tried in turn; the first that
accepts a pair compares it and may recurse into what it holds (gzip → tar → member → JSON…)
through :meth:`Context.recurse`. A comparator that cannot parse its input does not raise: the
context catches the failure, notes it in a comment and falls back to the next comparator, the
last of which (bytes) accepts everything.

Pure: no clock, environment, network or subprocess.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field

from reprobuild._fs import equal_buffers
from reprobuild._types import Buffer
from reprobuild.archive import DEFAULT_LIMITS, Limits, Member
from reprobuild.compare.difference import INCONSEQUENTIAL, Category, Difference
from reprobuild.errors import ReprobuildError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.compare.comparator import Comparator

__all__ = [
    "INCONSEQUENTIAL",
    "Category",
    "Comparator",
    "CompareOptions",
    "Context",
    "Difference",
    "Item",
    "compare",
    "default_registry",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One side of a comparison: a name to show, the bytes, and the archive member if any.

    ``data`` is ``bytes``, or a view of a file mapped into memory (a large input, which is
    then never read in whole): comparators that need ``bytes`` methods use :attr:`content`."""

    name: str
    data: Buffer
    member: Member | None = None

    @property
    def content(self) -> bytes:
        """The bytes as ``bytes`` (a copy only when :attr:`data` is a view)."""
        return self.data if isinstance(self.data, bytes) else bytes(self.data)

    def startswith(self, prefix: bytes | tuple[bytes, ...]) -> bool:
        """Whether the bytes start with ``prefix`` (or one of them), as ``bytes.startswith``
        says, without copying a view."""
        if isinstance(self.data, bytes):
            return self.data.startswith(prefix)
        longest = max(map(len, prefix)) if isinstance(prefix, tuple) else len(prefix)
        return bytes(self.data[:longest]).startswith(prefix)

    @property
    def basename(self) -> str:
        return self.name.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True, kw_only=True)
class CompareOptions:
    """How to compare: ``exclude`` globs match member and file paths; ``max_diff_lines`` caps
    each unified diff (0: no cap); ``max_depth`` bounds recursion into nested containers;
    ``labels`` name the two sides in each unified diff's ``---``/``+++`` lines, before the
    path (``published/pkg/mod.py``), when the sides' names alone do not tell them apart."""

    max_diff_lines: int = 200
    labels: tuple[str, str] = ("", "")
    exclude: tuple[str, ...] = ()
    limits: Limits = DEFAULT_LIMITS
    max_depth: int = 8

    def excluded(self, path: str) -> bool:
        """True when a pattern matches ``path``, its last part, or a folder above it (a folder
        that matches is left out with everything in it)."""
        if not self.exclude:
            return False
        parts = path.strip("/").split("/")
        candidates = {path, *parts, *("/".join(parts[:i]) for i in range(1, len(parts)))}
        return any(
            fnmatch.fnmatchcase(candidate, pattern)
            for pattern in self.exclude
            for candidate in candidates
        )


#: What a comparator may raise on input it cannot parse; anything else is a bug and propagates.
PARSE_ERRORS: tuple[type[Exception], ...] = (
    ReprobuildError,
    ValueError,
    KeyError,
    IndexError,
    EOFError,
    UnicodeError,
    OverflowError,
    TypeError,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What a comparator gets besides the pair: the options and a way to recurse."""

    options: CompareOptions
    registry: tuple[Comparator, ...]
    depth: int = 0
    notes: tuple[str, ...] = field(default=())

    def recurse(self, a: Item, b: Item) -> Difference | None:
        """Compare ``a`` and ``b`` with the first comparator that accepts them."""
        if equal_buffers(a.data, b.data):
            return None
        deeper = Context(options=self.options, registry=self.registry, depth=self.depth + 1)
        comments: list[str] = []
        for comparator in self.registry:
            if self.depth >= self.options.max_depth and comparator.name != "bytes":
                continue
            if not comparator.accepts(a, b):
                continue
            try:
                found = comparator.compare(a, b, deeper)
            except PARSE_ERRORS as exc:
                comments.append(f"not comparable as {comparator.name}: {exc}")
                continue
            if found is None:
                # the comparator saw no difference in bytes that differ: let the next explain
                comments.append(f"{comparator.name}: no difference found in differing bytes")
                continue
            if comments:
                note = "; ".join(comments)
                merged = f"{note}; {found.comment}" if found.comment else note
                found = Difference(
                    source_a=found.source_a,
                    source_b=found.source_b,
                    category=found.category,
                    unified_diff=found.unified_diff,
                    comment=merged,
                    children=found.children,
                )
            return found
        return Difference(
            source_a=a.name,
            source_b=b.name,
            category=Category.CONTENT,
            comment="; ".join(comments) or "the bytes differ",
        )


def default_registry() -> tuple[Comparator, ...]:
    """Every comparator, in the order they are tried (the byte comparison last)."""
    from reprobuild.compare.registry import REGISTRY

    return REGISTRY


def compare(
    a: Item,
    b: Item,
    options: CompareOptions | None = None,
    *,
    registry: Sequence[Comparator] | None = None,
) -> Difference | None:
    """The difference tree between ``a`` and ``b``, or None when their bytes are identical."""
    context = Context(
        options=options or CompareOptions(),
        registry=tuple(registry) if registry is not None else default_registry(),
    )
    return context.recurse(a, b)


def __getattr__(name: str) -> object:
    # the Comparator protocol lives in a module of its own, imported when it is asked for:
    # it needs ``typing``, which no comparison needs at run time (start-up is part of every
    # command)
    if name == "Comparator":
        from reprobuild.compare.comparator import Comparator

        return Comparator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
