"""Choosing between a serial and a parallel numba kernel, with a thread-count option."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba

__all__ = ["MIN_ITEMS_PER_THREAD", "run_batch"]

#: Below this many items per thread the serial kernel runs (the thread pool costs more than it gains).
MIN_ITEMS_PER_THREAD = 4


def run_batch(
    serial: Callable[..., Any], parallel: Callable[..., Any], n_items: int, n_threads: int | None, *args: Any
) -> None:
    """Run ``parallel(*args)`` on ``n_threads`` numba threads, or ``serial(*args)`` for small batches.

    ``n_threads`` None uses numba's current thread count; 1 always runs serially.
    """
    available = int(getattr(numba.config, "NUMBA_NUM_THREADS"))  # noqa: B009 - set at runtime by numba
    if n_threads is not None and not 1 <= n_threads <= available:
        raise ValueError(f"'n_threads' must be within 1-{available} (got {n_threads!r}).")
    if n_items < 2 * MIN_ITEMS_PER_THREAD or n_threads == 1:
        # Small batches (a focus lock's single ROI) never start numba's thread pool.
        serial(*args)
        return
    threads = numba.get_num_threads() if n_threads is None else n_threads
    if threads < 2 or n_items < MIN_ITEMS_PER_THREAD * threads:
        serial(*args)
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        parallel(*args)
    finally:
        numba.set_num_threads(previous)
