"""Conda packages built with py-rattler-build (tests/fixtures/dedup-conda, see its README): one
wheel packaged for three Python variants, as conda-forge packages IPython, and two builds of
one recipe made at different times."""

from __future__ import annotations

import functools
from pathlib import Path

from reprobuild.dedup import (
    DedupReport,
    Group,
    Level,
    MemberClass,
    Package,
    dedup,
    explain,
    find_packages,
    read_package,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dedup-conda"
VARIANTS = [f"variants/linux-64/rbdemo-1.0-py3{minor}_0.conda" for minor in (10, 11, 12)]
TWICE = [f"twice/{when}/linux-64/rbdemo-1.0-py312_0.tar.bz2" for when in ("first", "second")]


@functools.cache
def _report() -> DedupReport:
    return dedup(
        read_package(p) for p in find_packages([FIXTURES / "variants", FIXTURES / "twice"])
    )


def _short(path: str) -> str:
    return Path(path).relative_to(FIXTURES).as_posix()


def _group_of(level: Level, package: str) -> Group:
    return next(
        g for g in _report().level(level).groups if package in {_short(p) for p in g.packages}
    )


def _package(name: str) -> Package:
    return read_package(FIXTURES / name)


def test_the_fixtures_are_there() -> None:
    for name in [*VARIANTS, *TWICE, "rbdemo-1.0-py3-none-any.whl", "make.py", "README.md"]:
        assert (FIXTURES / name).is_file(), name


def test_two_builds_of_one_recipe_at_different_times_group_at_canonical_not_members() -> None:
    group = _group_of(Level.CANONICAL, TWICE[0])
    assert set(TWICE) <= {_short(p) for p in group.packages}
    assert _group_of(Level.MEMBERS, TWICE[0]) != _group_of(Level.MEMBERS, TWICE[1])
    why = explain(_package(TWICE[0]), _package(TWICE[1]), Level.MEMBERS)
    named = {m.path: m for m in why.members}
    # the build time, the build prefix in the entry point, and what is derived from them
    assert named["info/index.json"].rule == "conda-index"
    assert named["info/index.json"].member_class is MemberClass.VOLATILE
    assert named["bin/rbdemo"].rule == "conda-prefix"
    assert named["info/paths.json"].member_class is MemberClass.DERIVED
    assert all(m.rule is not None for m in why.members)


def test_the_python_variants_group_at_payload_with_the_differing_metadata_named() -> None:
    for level in (Level.MEMBERS, Level.CANONICAL):
        assert len({_group_of(level, v).digest for v in VARIANTS}) == 3
    group = _group_of(Level.PAYLOAD, VARIANTS[0])
    assert set(VARIANTS) <= {_short(p) for p in group.packages}
    heads = {_short(c.b) for c in group.why_apart_before} | {
        _short(c.a) for c in group.why_apart_before
    }
    assert set(VARIANTS) <= heads | set(TWICE)
    why = next(
        c
        for c in group.why_apart_before
        if {_short(c.a), _short(c.b)} & {VARIANTS[0]} and c.level is Level.CANONICAL
    )
    named = {m.path: m for m in why.members}
    # the dependency on one Python version and the build string, in index.json
    assert named["info/index.json"].member_class is MemberClass.IDENTITY
    assert named["info/index.json"].rule == "package-metadata"
    # the same module at lib/python3.X/site-packages for another X
    moved = [m for m in why.members if m.rule == "python-path"]
    assert any(
        m.path.endswith("site-packages/rbdemo/cli.py") and "python3.10" in m.path for m in moved
    )
    assert all(m.comment == "the same content at another path" for m in moved)


def test_the_variants_save_every_download_but_one_at_payload() -> None:
    payload = _report().level(Level.PAYLOAD)
    assert payload.downloads_saved == len(VARIANTS) + len(TWICE) - 1
