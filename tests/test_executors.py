"""executors.first_done: FIRST_COMPLETED waiting that an interruption cannot wedge."""

from __future__ import annotations

import random
import signal
import sys
import threading
from concurrent.futures import Future

import pytest

from reprobuild.executors import first_done


def test_the_done_ones_at_once_else_the_first_to_finish() -> None:
    early: Future[int] = Future()
    late: Future[int] = Future()
    early.set_result(1)
    assert first_done([early, late]) == {early}

    waiting: Future[int] = Future()
    timer = threading.Timer(0.05, waiting.set_result, (2,))
    timer.start()
    assert first_done([late, waiting]) == {waiting}
    timer.join()


def test_ctrl_c_leaves_no_lock_that_the_finishing_thread_needs() -> None:
    """SIGINT reaches the main thread at random moments inside first_done; each time it
    ends in KeyboardInterrupt, and another thread must still be able to finish every future,
    as a pool's manager thread does, instead of waiting forever for a lock left held."""
    rng = random.Random(7)
    main = threading.get_ident()
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # the signalling thread gets to run while the wait holds the GIL
    try:
        _interrupt_waits(rng, main)
    finally:
        sys.setswitchinterval(switch)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _interrupt_waits(rng: random.Random, main: int) -> None:
    for _ in range(100):  # many futures: a wait spends a while taking their locks
        futures: list[Future[int]] = [Future() for _ in range(3000)]
        killer = threading.Timer(rng.uniform(0, 0.004), signal.pthread_kill, (main, signal.SIGINT))
        with pytest.raises(KeyboardInterrupt):
            killer.start()
            first_done(futures)
        killer.join()
        finisher = threading.Thread(
            target=lambda fs=futures: [f.set_result(0) for f in fs], daemon=True
        )
        finisher.start()
        finisher.join(5)
        if finisher.is_alive():
            pytest.fail("a future's lock was left held by the interrupted wait")
