"""_fs helpers outside the archive code: the default cache folder."""

from __future__ import annotations

from pathlib import Path

from reprobuild._fs import default_cache_dir


def test_explicit_cache_dir_wins() -> None:
    env = {"REPROBUILD_CACHE_DIR": "/srv/cache", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}
    assert default_cache_dir(env) == Path("/srv/cache")


def test_xdg_cache_home() -> None:
    assert default_cache_dir({"XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"}) == Path(
        "/xdg/reprobuild"
    )


def test_relative_xdg_is_ignored_as_the_spec_says() -> None:
    env = {"XDG_CACHE_HOME": "relative", "HOME": "/home/u"}
    assert default_cache_dir(env) == Path("/home/u/.cache/reprobuild")


def test_home_cache() -> None:
    assert default_cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/reprobuild")
