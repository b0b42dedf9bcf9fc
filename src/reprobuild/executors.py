"""Where a graph's steps run: one protocol, an in-process pool by default and Dask distributed
to scale out.

A task is a module-level function and picklable arguments; what it returns is small (an
action's result, which points at its outputs in the shared store by digest). Outputs never
travel through the executor: they go through the cache. Tasks are idempotent (an action found
in the cache is not run again), so a task run twice, after a lost worker, costs time only.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Collection
from typing import Protocol, TypeVar

__all__ = ["DaskExecutor", "Executor", "InProcessPool", "SerialExecutor", "Task", "first_done"]

T = TypeVar("T")


def first_done(
    futures: Collection[concurrent.futures.Future[T]],
) -> set[concurrent.futures.Future[T]]:
    """Those of ``futures`` that are done, waiting until one is: ``concurrent.futures.wait``
    with ``FIRST_COMPLETED``, but safe to interrupt with Ctrl-C.

    Every look at a future takes its lock in a ``with``; a ``KeyboardInterrupt`` raised just
    as one is taken leaves it held for good, and the pool's own thread, which takes that lock
    to start or finish the future, then waits forever: the program hangs on its way out
    instead of stopping. So while this waits, in the main thread, SIGINT only notes itself
    and wakes the wait, and the ``KeyboardInterrupt`` is raised here, with no lock held. Each
    future, once done, puts itself on a queue whose ``put`` never waits.
    """
    import queue
    import signal
    import threading

    finished: queue.SimpleQueue[object] = queue.SimpleQueue()
    noted: list[int] = []

    def note(signum: int, _frame: object) -> None:
        noted.append(signum)
        finished.put(None)

    previous = None
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    ):
        previous = signal.signal(signal.SIGINT, note)
    try:
        for future in futures:
            future.add_done_callback(finished.put)
        while not noted:
            done = {f for f in futures if f.done()}
            if done:
                return done
            finished.get()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    raise KeyboardInterrupt


class Task(Protocol):
    """A submitted task: its key, and its result once done (raising what the task raised)."""

    key: str

    def done(self) -> bool: ...

    def result(self) -> object: ...


class Executor(Protocol):
    """Runs tasks: ``submit`` starts one under a deterministic ``key`` (an action key), and
    ``wait_any`` returns those of ``tasks`` that are done, waiting until one is."""

    name: str

    def submit(self, key: str, fn: Callable[..., object], *args: object) -> Task: ...

    def wait_any(self, tasks: Collection[Task]) -> set[Task]: ...

    def close(self) -> None: ...


class _Done:
    """A task run at once, in this process."""

    def __init__(self, key: str, fn: Callable[..., object], args: tuple[object, ...]) -> None:
        self.key = key
        self._value: object = None
        self._error: BaseException | None = None
        try:
            self._value = fn(*args)
        except Exception as exc:  # handed to whoever asks for the result, as a pool would
            self._error = exc

    def done(self) -> bool:
        return True

    def result(self) -> object:
        if self._error is not None:
            raise self._error
        return self._value


class SerialExecutor:
    """Every task run at once, in this process, one after the other (for tests, and for
    ``--jobs 1`` where a pool would only add its start-up)."""

    name = "serial"

    def submit(self, key: str, fn: Callable[..., object], *args: object) -> Task:
        return _Done(key, fn, args)

    def wait_any(self, tasks: Collection[Task]) -> set[Task]:
        return set(tasks)

    def close(self) -> None:
        pass


class _Future:
    def __init__(self, key: str, future: concurrent.futures.Future[object]) -> None:
        self.key = key
        self.future = future

    def done(self) -> bool:
        return self.future.done()

    def result(self) -> object:
        return self.future.result()


class InProcessPool:
    """``jobs`` worker processes on this machine (a process each, so that one build's umask
    and environment never reach another's)."""

    name = "pool"

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def submit(self, key: str, fn: Callable[..., object], *args: object) -> Task:
        if self._pool is None:  # started with the first task: a run that finds everything
            import multiprocessing  # in the cache starts no process

            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=multiprocessing.get_context("forkserver")
            )
        return _Future(key, self._pool.submit(fn, *args))

    def wait_any(self, tasks: Collection[Task]) -> set[Task]:
        futures = {t.future: t for t in tasks if isinstance(t, _Future)}
        return {futures[f] for f in first_done(futures)}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class _DaskTask:
    def __init__(self, key: str, future: object) -> None:
        self.key = key
        self.future = future

    def done(self) -> bool:
        return bool(self.future.done())  # type: ignore[attr-defined]

    def result(self) -> object:
        return self.future.result()  # type: ignore[attr-defined]


class DaskExecutor:
    """Tasks on a Dask distributed cluster: a ``LocalCluster`` of ``workers`` processes
    started here (``address`` None), or the scheduler at ``address`` (``tcp://HOST:PORT``),
    the way a cluster on Kubernetes, SLURM or SSH is joined. Each task's Dask key is its action
    key, so a task submitted twice runs once; a worker lost mid-task makes the scheduler run it
    again elsewhere (up to ``allowed_failures`` times)."""

    name = "dask"

    def __init__(self, address: str | None = None, *, workers: int = 2) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:
            from reprobuild.errors import UsageError

            raise UsageError(
                "Dask distributed is not installed",
                hint="pip install 'reprobuild[dask]'",
            ) from exc
        dask.config.set({"distributed.scheduler.allowed-failures": 3})
        self.cluster = None
        if address is None:
            self.cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=40,
            )
            self.client = Client(self.cluster)  # type: ignore[no-untyped-call]
        else:
            self.client = Client(address, timeout=30)  # type: ignore[no-untyped-call]
        self.address = str(getattr(self.client.scheduler, "address", address))

    def submit(self, key: str, fn: Callable[..., object], *args: object) -> Task:
        return _DaskTask(key, self.client.submit(fn, *args, key=key, pure=False, retries=2))

    def wait_any(self, tasks: Collection[Task]) -> set[Task]:
        from distributed import wait

        futures = {t.future: t for t in tasks if isinstance(t, _DaskTask)}
        done, _ = wait(list(futures), return_when="FIRST_COMPLETED")  # type: ignore[no-untyped-call]
        return {futures[f] for f in done}

    def worker_pids(self) -> list[int]:
        """The process ids of the cluster's workers (to stop one, in a test)."""
        info = self.client.run(__import__("os").getpid)
        return sorted(int(pid) for pid in info.values())

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]
        if self.cluster is not None:
            self.cluster.close()
