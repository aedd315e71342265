"""A small shared thread pool that runs ``nogil`` numba kernels on row blocks.

The kernels release the GIL, so splitting a large frame into row blocks and
running the blocks on threads uses every core without numba's ``parallel``
mode (whose compile time would dominate a short run).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["in_worker", "map_items", "map_row_blocks", "n_threads"]

T = TypeVar("T")

_MIN_PIXELS_PER_BLOCK = 1 << 19
_PREFIX = "focusmetrics"
_pool: ThreadPoolExecutor | None = None


def n_threads() -> int:
    """Worker threads: ``SCOPEWEAVE_THREADS`` or ``NUMBA_NUM_THREADS`` if set, else the CPU count."""
    for name in ("SCOPEWEAVE_THREADS", "NUMBA_NUM_THREADS"):
        value = os.environ.get(name)
        if value and value.isdigit() and int(value) > 0:
            return int(value)
    return max(os.cpu_count() or 1, 1)


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=n_threads(), thread_name_prefix=_PREFIX)
    return _pool


def map_row_blocks(kernel: Callable[..., T], height: int, width: int, *args: Any) -> list[T]:
    """Call ``kernel(*args, row0, row1)`` on row blocks covering ``0..height``.

    Small frames (or one thread) run in one call on the calling thread.
    """
    threads = 1 if in_worker() else n_threads()
    blocks = min(threads, max(1, (height * width) // _MIN_PIXELS_PER_BLOCK), height)
    if blocks <= 1:
        return [kernel(*args, 0, height)]
    edges = [round(i * height / blocks) for i in range(blocks + 1)]
    futures = [_executor().submit(kernel, *args, edges[i], edges[i + 1]) for i in range(blocks)]
    return [future.result() for future in futures]


def in_worker() -> bool:
    """Whether the caller is one of the pool's threads (which must not wait on the pool)."""
    return threading.current_thread().name.startswith(_PREFIX)


def map_items(function: Callable[[Any], T], items: Any) -> list[T]:
    """``[function(item) for item in items]`` run on the pool, results in order."""
    return list(_executor().map(function, items))
