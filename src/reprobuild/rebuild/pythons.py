"""The Python a rebuild runs on: the recipe's wanted version when it can be had, else the
substitution the recipe already shows, with the reason the wanted one could not be had.

Inference picks the wanted CPython (``wanted_python``) and, among the interpreters this
machine has, the nearest (``python``). When that is a substitution, :func:`with_wanted_python`
asks a :class:`~reprobuild.frontend.PythonProvider` (uv: found, or installed on a machine
with internet access) for the wanted one, and rewrites the ``python`` field and its evidence
with what it got, or adds to the evidence why it got nothing.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from dataclasses import replace

from reprobuild.frontend import Interpreter, PythonProvider
from reprobuild.strategy import Evidence, Recipe

__all__ = ["with_wanted_python"]


def _minor(version: str | None) -> tuple[str, ...]:
    return tuple((version or "").split(".")[:2])


def with_wanted_python(
    recipe: Recipe,
    pythons: Sequence[Interpreter],
    provider: PythonProvider | None,
    say: Callable[[str], None],
) -> tuple[Recipe, tuple[Interpreter, ...]]:
    """``recipe`` on its wanted Python, and ``pythons`` with that interpreter among them, when
    the recipe's own is another minor version (or not among ``pythons``) and ``provider``
    gives it; otherwise the recipe with the provider's reason in its ``python`` evidence."""
    wanted = recipe.wanted_python
    have = tuple(pythons)
    if provider is None or not wanted:
        return recipe, have
    chosen = recipe.python or platform.python_version()  # None: the one running reprobuild
    listed = recipe.python is None or any(p.version == recipe.python for p in have)
    if _minor(chosen) == _minor(wanted) and listed:
        return recipe, have
    provided = provider(wanted)
    found = provided.interpreter
    if found is None:
        if _minor(chosen) == _minor(wanted):
            return recipe, have  # the recipe's own, which an earlier answer gave
        say(f"Python {wanted}: {provided.how}; the rebuild runs on {chosen}")
        return replace(recipe, evidence=_said(recipe, None, f"; {provided.how}")), have
    more = () if any(p.version == found.version for p in have) else (found,)
    if found.version == recipe.python:  # chosen by an earlier answer: its evidence stands
        return recipe, (*have, *more)
    say(f"Python {wanted}: CPython {found.version}, {provided.how}")
    reason = f"this machine has no Python {wanted} on PATH: CPython {found.version}, {provided.how}"
    evidence = _said(recipe, Evidence(field="python", value=found.version, reason=reason), "")
    return replace(recipe, python=found.version, evidence=evidence), (*have, *more)


def _said(recipe: Recipe, new: Evidence | None, added: str) -> tuple[Evidence, ...]:
    """The recipe's evidence with its ``python`` entry replaced by ``new``, or (``new`` None)
    with ``added`` at the end of its reason."""
    out = []
    for evidence in recipe.evidence:
        if evidence.field != "python":
            out.append(evidence)
        elif new is not None:
            out.append(new)
        else:
            out.append(replace(evidence, reason=evidence.reason + added))
    return tuple(out)
