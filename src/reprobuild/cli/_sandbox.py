"""The sandbox options of every command that builds: ``--sandbox`` and its limits."""

from __future__ import annotations

import argparse
import math
import sys

from reprobuild.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from reprobuild.frontend.sandbox import Sandbox

__all__ = ["add_sandbox_arguments", "describe_sandbox", "sandbox_of"]

#: What a build outside any sandbox can do: said whenever one is run.
RISK = (
    "the build runs unsandboxed: its setup.py or build backend runs with all your rights, and "
    "can read your files and secrets, change them, reach the network and leave processes "
    "running"
)


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """``--sandbox`` and the limits of each build step."""
    group = parser.add_argument_group(
        "sandbox",
        "Every build runs the project's build code in a sandbox: the system read-only, one "
        "writable build folder, a private /tmp, a throw-away home, no network, and limits. A "
        "build stopped at a limit is a failed build whose cause names the limit.",
    )
    group.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "landlock", "none"),
        default="auto",
        help="auto (default): bubblewrap where user namespaces are allowed, else Landlock; "
        "a machine with neither refuses to build until 'none' is given by name, which runs "
        "the build with all your rights",
    )
    group.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        default=15 * 60,
        help="wall-clock limit of each build step (default: 900)",
    )
    group.add_argument(
        "--memory-limit",
        type=_memory,
        metavar="SIZE",
        default="3G",
        help="memory a build may use: a number of bytes, or one with K, M, G or T (powers of "
        "1024), e.g. 3G or 512M (default: 3G; at least 64M; counted for the whole build where "
        "a cgroup can be made, per process otherwise)",
    )
    group.add_argument(
        "--max-processes",
        type=_count,
        metavar="N",
        default=512,
        help="processes and threads a build may run at once (default: 512)",
    )
    group.add_argument(
        "--output-limit",
        type=_output,
        metavar="SIZE",
        default="4G",
        help="bytes a build may write, in its build folder, /tmp and home together (default: 4G)",
    )


def sandbox_of(args: argparse.Namespace) -> Sandbox:
    """The sandbox the options ask for, checked to run here.

    ``none`` (asked for by name) prints a warning naming the risk; ``auto`` on a machine with
    no sandbox is refused with exit 3 (:class:`~reprobuild.frontend.SandboxError`).
    """
    from reprobuild.frontend.sandbox import Limits, SandboxMode, choose_sandbox, default_sandbox

    limits = Limits(
        wall_seconds=args.timeout,
        memory=args.memory_limit,
        processes=args.max_processes,
        output=args.output_limit,
    )
    if args.sandbox == "auto":
        return default_sandbox(limits)
    box = choose_sandbox(args.sandbox, limits)
    if box.mode is SandboxMode.NONE:
        print(f"warning: --sandbox none: {RISK}", file=sys.stderr)
    return box


def describe_sandbox(record: object) -> str:
    """One line for a result's ``sandbox`` record: ``bwrap 0.11.0 (limits: 900 s, 3.0 GiB
    memory, 512 processes, 4.0 GiB written; counted by cgroup)``, or ``none``."""
    if not isinstance(record, dict):
        return "not recorded"
    kind = str(record.get("kind", "?"))
    limits = record.get("limits")
    text = f"{kind} {record.get('version', '')}".strip()
    if kind == "none":
        text = "none: the build ran with all the rights of the user who ran it"
    if isinstance(limits, dict):
        text += (
            f" (limits: {limits.get('wall_seconds')} s, {_gib(limits.get('memory'))} memory, "
            f"{limits.get('processes')} processes, {_gib(limits.get('output'))} written; "
            f"counted by {record.get('counted_by', '?')})"
        )
    return text


def _gib(value: object) -> str:
    if isinstance(value, int):
        return f"{value / 1024**3:.1f} GiB" if value >= 1024**3 else f"{value / 1024**2:.0f} MiB"
    return "?"


def _size(text: str) -> int:
    from reprobuild.frontend.sandbox import parse_size

    try:
        return parse_size(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def _memory(text: str) -> int:
    value = _size(text)
    if value < _LEAST_MEMORY:
        raise argparse.ArgumentTypeError(
            f"a memory limit below 64M leaves no room for a Python build: {text!r} (a number "
            "alone is bytes: write 512M, not 512)"
        )
    return value


def _output(text: str) -> int:
    value = _size(text)
    if value < _LEAST_OUTPUT:
        raise argparse.ArgumentTypeError(
            f"an output limit below 1M leaves no room for a build: {text!r} (a number alone "
            "is bytes)"
        )
    return value


#: The smallest limits that leave a Python build room to start.
_LEAST_MEMORY = 64 * 1024**2
_LEAST_OUTPUT = 1024**2


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"a time limit must be a positive number of seconds, not {text!r}"
        )
    return value


#: The most processes a limit may allow: Linux's largest pid_max.
_MOST_PROCESSES = 4_194_304


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= _MOST_PROCESSES:
        raise argparse.ArgumentTypeError(
            f"a process limit must be between 1 and {_MOST_PROCESSES}, not {text!r}"
        )
    return value
