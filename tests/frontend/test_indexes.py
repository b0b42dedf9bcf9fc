"""pip's index configuration, read from ``pip config list`` and passed on to uv."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from reprobuild.frontend import IndexConfig, load_index_config, parse_pip_config

LISTING = """\
:env:.default-timeout='180'
:env:.find-links='/srv/wheels'
global.cert='/etc/ssl/bundle.pem'
global.extra-index-url='file:///srv/a/simple file:///srv/b/simple'
global.index-url='https://global.invalid/simple'
global.trusted-host='global.invalid'
install.index-url='https://install.invalid/simple'
download.index-url='https://download.invalid/simple'
"""


def after(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_sections_merge_as_pip_install_merges_them() -> None:
    config = parse_pip_config(LISTING)
    assert config == IndexConfig(
        index_url="https://install.invalid/simple",  # install beats global; download is ignored
        extra_index_urls=("file:///srv/a/simple", "file:///srv/b/simple"),
        find_links=("/srv/wheels",),
        trusted_hosts=("global.invalid",),
        cert="/etc/ssl/bundle.pem",
    )


def test_environment_variables_win() -> None:
    config = parse_pip_config(LISTING + ":env:.index-url='https://env.invalid/simple'\n")
    assert config.index_url == "https://env.invalid/simple"
    assert parse_pip_config(":env:.no-index='yes'\n").no_index


def test_uv_options() -> None:
    config = parse_pip_config(LISTING)
    args = config.uv_args()
    assert args[:2] == ["--index-url", "https://install.invalid/simple"]
    assert args.count("--extra-index-url") == 2
    assert after(args, "--find-links") == "/srv/wheels"
    assert after(args, "--allow-insecure-host") == "global.invalid"
    # pip takes the best version across indexes; uv must be asked for that
    assert args[-2:] == ["--index-strategy", "unsafe-best-match"]
    assert config.uv_environ() == {"SSL_CERT_FILE": "/etc/ssl/bundle.pem"}


def test_no_configuration_means_installer_defaults() -> None:
    assert IndexConfig().uv_args() == []
    assert IndexConfig().pip_args() == []
    assert IndexConfig().uv_environ() == {}
    only_index = IndexConfig(index_url="https://mirror.invalid/simple")
    assert "--index-strategy" not in only_index.uv_args()


def test_pip_options() -> None:
    config = IndexConfig(index_url="u", extra_index_urls=("e",), find_links=("f",), no_index=True)
    assert config.pip_args() == [
        "--index-url",
        "u",
        "--extra-index-url",
        "e",
        "--find-links",
        "f",
        "--no-index",
    ]


def test_load_asks_pip_and_honours_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no configuration file
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.invalid/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://x.invalid/simple https://y.invalid/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "/srv/wheels")
    config = load_index_config()
    assert config.index_url == "https://env.invalid/simple"
    assert config.extra_index_urls == ("https://x.invalid/simple", "https://y.invalid/simple")
    assert config.find_links == ("/srv/wheels",)


def test_load_without_pip_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    monkeypatch.setenv("PIP_INDEX_URL", "https://only-env.invalid/simple")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    config = load_index_config()
    assert config.index_url == "https://only-env.invalid/simple"
    assert config.no_index


def test_pip_is_asked_once_and_its_answer_kept_while_its_files_stay(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from reprobuild.frontend import indexes

    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = https://kept.invalid/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    first = load_index_config(tmp_path / "cache")
    assert first.index_url == "https://kept.invalid/simple"
    assert len(list((tmp_path / "cache" / "pip-config").iterdir())) == 1
    indexes._ANSWERS.clear()  # a new process: only the file on disk is left
    asked: list[object] = []
    import subprocess

    run = subprocess.run

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(args)
        return run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counted)
    assert load_index_config(tmp_path / "cache") == first
    assert asked == []  # read from the disk, pip not asked
    # and then asked without a cache folder (a build's installer): the same answer, not asked
    assert load_index_config() == first
    assert asked == []
    # a changed configuration file is a new key: pip is asked again
    config.write_text("[global]\nindex-url = https://changed.invalid/simple\n")
    indexes._ANSWERS.clear()
    assert load_index_config(tmp_path / "cache").index_url == "https://changed.invalid/simple"
    assert len(asked) == 1
