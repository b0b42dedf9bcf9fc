"""``reprobuild verify -r FILE``: many releases, one after another or in worker processes,
with a progress bar on a terminal.

Each release's attempt becomes an :class:`Outcome`: its verification, or the error that stopped
it, so that one bad release never stops the batch. With ``--jobs N`` the releases run in N
worker processes (a build sets its process's umask, so threads would not do), each building in
a folder of its own next to reprobuild's fixed one.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from reprobuild.cli._output import say
from reprobuild.cli._release import verify_index, verify_local

TYPE_CHECKING = False
if TYPE_CHECKING:
    from multiprocessing import Queue

    from reprobuild.frontend import Interpreter
    from reprobuild.rebuild import Verification

__all__ = ["Bar", "Outcome", "run_parallel", "run_serial"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one release's attempt came to: a verification, or an error that stopped it."""

    index: int
    release: str
    started: datetime
    seconds: float
    verification: Verification | None = None
    error: str = ""
    hint: str = ""
    exit_code: int = 0


def _attempt(
    index: int,
    release: str,
    args: argparse.Namespace,
    cache_dir: Path,
    pythons: tuple[Interpreter, ...],
    progress: Callable[[str], None],
    build_root: Path | None = None,
) -> Outcome:
    """Verify one release; an error that stops it becomes part of the outcome."""
    from reprobuild.cli._output import error_text, shown
    from reprobuild.cli.main import EXIT_BAD_INPUT, EXIT_FAILURE
    from reprobuild.errors import BuildError, NetworkError, ReprobuildError

    started = datetime.now(UTC)
    clock = time.monotonic()
    try:
        verification = (
            verify_local(args, cache_dir, pythons, progress)
            if args.wheel or args.sdist
            else verify_index(release, args, cache_dir, pythons, progress, build_root)
        )
    except ReprobuildError as exc:
        located = exc.with_path(release) if args.releases is not None else exc
        return Outcome(
            index=index,
            release=release,
            started=started,
            seconds=time.monotonic() - clock,
            error=error_text(located),
            hint=shown(exc.hint or "", lines=True),
            exit_code=(
                EXIT_FAILURE if isinstance(exc, (BuildError, NetworkError)) else EXIT_BAD_INPUT
            ),
        )
    return Outcome(
        index=index,
        release=release,
        started=started,
        seconds=time.monotonic() - clock,
        verification=verification,
    )


def run_serial(
    releases: Sequence[str],
    args: argparse.Namespace,
    cache_dir: Path,
    pythons: tuple[Interpreter, ...],
    bar: Bar | None,
    progress: Callable[[str], None],
) -> Iterator[Outcome]:
    for index, release in enumerate(releases):
        if bar is not None:
            bar.start(release)
            if not bar.live:
                progress(f"[{index + 1}/{len(releases)}] {release}")
        yield _attempt(index, release, args, cache_dir, pythons, progress)


#: This worker process's build folder, under "root" (set by :func:`_init_worker`).
_WORKER: dict[str, Path] = {}


def _init_worker(slots: Queue[int]) -> None:
    """Give this worker process a build folder of its own: reprobuild's, numbered."""
    from reprobuild.build import BUILD_ROOT

    slot = slots.get()
    _WORKER["root"] = BUILD_ROOT.with_name(f"{BUILD_ROOT.name}-{slot}")


def _work(
    index: int,
    release: str,
    args: argparse.Namespace,
    cache_dir: Path,
    pythons: tuple[Interpreter, ...],
    verbose: bool,
) -> Outcome:
    def progress(message: str) -> None:
        if verbose:
            say(f"{release}: {message}")

    return _attempt(index, release, args, cache_dir, pythons, progress, _WORKER.get("root"))


def run_parallel(
    releases: Sequence[str],
    args: argparse.Namespace,
    cache_dir: Path,
    pythons: tuple[Interpreter, ...],
    bar: Bar | None,
) -> Iterator[Outcome]:
    """Verify ``releases`` in ``args.jobs`` worker processes (a process each, as a build sets
    the process's umask); outcomes come as they finish."""
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    from reprobuild.executors import first_done

    context = multiprocessing.get_context("spawn")
    slots: Queue[int] = context.Queue()
    for slot in range(1, args.jobs + 1):
        slots.put(slot)
    verbose = bar is None or not bar.live
    with ProcessPoolExecutor(
        max_workers=args.jobs, mp_context=context, initializer=_init_worker, initargs=(slots,)
    ) as pool:
        waiting = list(enumerate(releases))
        running: dict[Future[Outcome], str] = {}
        while waiting or running:
            while waiting and len(running) < args.jobs:
                index, release = waiting.pop(0)
                future = pool.submit(_work, index, release, args, cache_dir, pythons, verbose)
                running[future] = release
                if bar is not None:
                    bar.start(release)
            for future in first_done(running):
                del running[future]
                yield future.result()


class Bar:
    """A one-line progress bar on a terminal (``live``); elsewhere it only counts."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.live = stream.isatty() and os.environ.get("TERM") != "dumb"
        self.count = 0
        self.verdicts: Counter[str] = Counter()
        self.current: list[str] = []
        self.began = time.monotonic()

    def start(self, release: str) -> None:
        self.current.append(release)
        self.draw()

    def done(self, outcome: Outcome) -> None:
        self.count += 1
        if outcome.release in self.current:
            self.current.remove(outcome.release)
        if outcome.verification is None:
            words = ["error"]
        else:
            words = [r.verdict.value for r in outcome.verification.results]
        tally = Counter(words)
        self.verdicts.update(tally)
        if not self.live:
            summary = ", ".join(word if n == 1 else f"{n} {word}" for word, n in tally.items())
            print(
                f"reprobuild: [{self.count}/{self.total}] {outcome.release}: {summary} "
                f"({outcome.seconds:.1f} s)",
                file=self.stream,
            )
        self.draw()

    def draw(self) -> None:
        if not self.live:
            return
        width = 20
        filled = width * self.count // max(self.total, 1)
        seconds = int(time.monotonic() - self.began)
        counts = " ".join(f"{word} {n}" for word, n in sorted(self.verdicts.items()))
        now = ", ".join(self.current)
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {self.count}/{self.total} "
            f"{seconds // 60}:{seconds % 60:02d} {counts}" + (f" | {now}" if now else "")
        )
        self.stream.write("\r\033[K" + line[: _columns() - 1])
        self.stream.flush()

    def clear(self) -> None:
        if self.live:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def finish(self) -> None:
        self.clear()
        if self.total:
            counts = ", ".join(f"{n} {word}" for word, n in sorted(self.verdicts.items()))
            seconds = time.monotonic() - self.began
            print(
                f"reprobuild: {self.count} releases in {seconds:.0f} s: {counts}", file=self.stream
            )


def _columns() -> int:
    try:
        return int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(2).columns
    except (ValueError, OSError):
        return 80
