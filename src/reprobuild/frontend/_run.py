"""Running the installers' commands, and the tail of a log for an error message."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from reprobuild.errors import BuildError

__all__ = ["TAIL_LINES", "Progress", "read_tail", "run_tool", "tail"]

#: How many lines of a log an error carries.
TAIL_LINES = 40

#: The progress callback: one short line per step, e.g. "resolving 3 requirements with uv".
Progress = Callable[[str], None]


def tail(text: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` non-empty-ended lines of ``text``."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


def read_tail(path: Path, *, start: int = 0, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of the file at ``path`` from byte ``start`` on ("" if none)."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            # 64 KiB is ample for 40 lines of a build log; do not read a huge log whole
            handle.seek(max(start, size - 65536))
            data = handle.read()
    except OSError:
        return ""
    return tail(data.decode("utf-8", "replace"), lines)


def run_tool(
    cmd: Sequence[str | Path],
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    hint: str | None = None,
    timeout: float | None = None,
) -> str:
    """Run an installer command and return its standard output.

    Standard error is captured too; on a non-zero exit (or a command that cannot start, or
    one still running after ``timeout`` seconds, which is then killed) raise
    :class:`BuildError` saying ``what`` failed, with the tail of both streams.
    """
    argv = [str(part) for part in cmd]
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        # what it wrote so far comes as bytes, whatever text=True says
        written = [bytes(p or b"").decode("utf-8", "replace") for p in (exc.stdout, exc.stderr)]
        log = tail("\n".join(part for part in written if part.strip()))
        raise BuildError(
            f"{what}: stopped after {timeout:g} s",
            hint=(hint + "\n" if hint else "")
            + (f"the last lines it wrote:\n{log}" if log else ""),
            log_tail=log,
        ) from exc
    except OSError as exc:
        raise BuildError(
            f"{what}: cannot run {argv[0]}: {exc.strerror or exc}",
            hint=hint,
        ) from exc
    if proc.returncode != 0:
        log = tail("\n".join(part for part in (proc.stdout, proc.stderr) if part.strip()))
        raise BuildError(
            f"{what} failed (exit status {proc.returncode})",
            hint=(hint + "\n" if hint else "") + f"the last lines it wrote:\n{log}",
            log_tail=log,
        )
    return proc.stdout
