"""The sandbox this machine has, for the tests that build hostile or third-party code."""

from __future__ import annotations

import os

import pytest

from reprobuild.frontend import Limits, Sandbox, SandboxError, SandboxMode, choose_sandbox

__all__ = ["machine_sandbox"]


def machine_sandbox(limits: Limits | None = None) -> Sandbox:
    """The machine's sandbox; the test skips where the machine forbids every one, except in
    CI, whose machine must run them."""
    reason = ""
    try:
        box = choose_sandbox(SandboxMode.AUTO, limits or Limits())
    except SandboxError as exc:  # pragma: no cover - depends on the machine
        reason = f"no sandbox on this machine: {exc.reason}"
    else:
        if box.mode is not SandboxMode.NONE:
            return box
        reason = "this machine allows neither user namespaces nor Landlock"  # pragma: no cover
    if os.environ.get("CI"):  # pragma: no cover - depends on the machine
        pytest.fail(f"CI must run the sandbox's tests: {reason}")
    pytest.skip(reason)  # pragma: no cover
