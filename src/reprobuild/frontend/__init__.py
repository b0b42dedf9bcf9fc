"""The build front end: PEP 517 hooks run in isolated, pinned, cached environments.

This is the only module of reprobuild that starts build subprocesses. It prints nothing:
progress is reported through an optional callback, failures as
:class:`~reprobuild.errors.ProjectError` (bad input) or :class:`~reprobuild.errors.BuildError`.

A build goes like this::

    system = read_build_system(source)
    env = prepare_environment(system.requires, cache_dir=cache)
    extra = get_requires(env, source, "wheel", env_vars)
    if extra:  # the union gets its own environment
        env = prepare_environment([*system.requires, *extra], cache_dir=cache)
    wheel = build_wheel(env, source, outdir, env_vars)

The cache folder is always an argument; the command line finds the default one with
:func:`reprobuild._fs.default_cache_dir`.
"""

from __future__ import annotations

from reprobuild.frontend.buildsystem import (
    LEGACY_BACKEND,
    LEGACY_BACKEND_SINCE,
    LEGACY_REQUIRES,
    OLD_FRONTEND_REQUIRES,
    BuildSystem,
    frontend_requires,
    overridden,
    parse_build_system,
    read_build_system,
    requirement_name,
    setup_py_system,
)
from reprobuild.frontend.clock import clock_variables
from reprobuild.frontend.environment import Environment, prepare_environment, resolve_requirements
from reprobuild.frontend.hooks import HOOKS, build_sdist, build_wheel, call_hook, get_requires
from reprobuild.frontend.indexes import IndexConfig, load_index_config, parse_pip_config
from reprobuild.frontend.installers import InstallerName, find_uv
from reprobuild.frontend.interpreter import Interpreter, find_interpreter, find_pythons
from reprobuild.frontend.pins import PinnedRequirement, environment_key, parse_pins, render_pins
from reprobuild.frontend.pythons import ProvidedPython, PythonProvider, UvPythons
from reprobuild.frontend.sandbox import (
    DEFAULT_LIMITS,
    Limits,
    Sandbox,
    SandboxError,
    SandboxLimitError,
    SandboxMode,
    choose_sandbox,
    default_sandbox,
    parse_size,
)
from reprobuild.frontend.vcs import GitCommit, git_commit_info

__all__ = [
    "DEFAULT_LIMITS",
    "HOOKS",
    "LEGACY_BACKEND",
    "LEGACY_BACKEND_SINCE",
    "LEGACY_REQUIRES",
    "OLD_FRONTEND_REQUIRES",
    "BuildSystem",
    "Environment",
    "GitCommit",
    "IndexConfig",
    "InstallerName",
    "Interpreter",
    "Limits",
    "PinnedRequirement",
    "ProvidedPython",
    "PythonProvider",
    "Sandbox",
    "SandboxError",
    "SandboxLimitError",
    "SandboxMode",
    "UvPythons",
    "build_sdist",
    "build_wheel",
    "call_hook",
    "choose_sandbox",
    "clock_variables",
    "default_sandbox",
    "environment_key",
    "find_interpreter",
    "find_pythons",
    "find_uv",
    "frontend_requires",
    "get_requires",
    "git_commit_info",
    "load_index_config",
    "overridden",
    "parse_build_system",
    "parse_pins",
    "parse_pip_config",
    "parse_size",
    "prepare_environment",
    "read_build_system",
    "render_pins",
    "requirement_name",
    "resolve_requirements",
    "setup_py_system",
]
