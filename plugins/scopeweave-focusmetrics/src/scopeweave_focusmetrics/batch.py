"""Run one function over many items on Dask: local threads by default, a scheduler address to scale out.

Results come back to the caller as they finish (``on_result`` is called in the
calling thread for the distributed scheduler, and under a lock for the local
ones), so products are written by one process however the work is spread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["SCHEDULERS", "run_batch"]

T = TypeVar("T")
R = TypeVar("R")

SCHEDULERS = ("threads", "processes", "sync")


def _check_scheduler(scheduler: str) -> None:
    if scheduler not in SCHEDULERS and "://" not in scheduler:
        raise ValueError(f"scheduler must be one of {SCHEDULERS} or a Dask scheduler address such as "
                         f"'tcp://host:8786' (got {scheduler!r}).")


def run_batch(function: Callable[[T], R], items: Sequence[T], *, scheduler: str = "threads", n_workers: int = 0,
              on_result: Callable[[int, R], None]) -> None:
    """Call ``function(item)`` for every item on Dask and ``on_result(index, result)`` as each one finishes.

    ``scheduler``: ``threads`` (default), ``processes``, ``sync`` or a ``tcp://`` address of a running
    ``dask.distributed`` scheduler. ``n_workers``: local workers (0: one per core).
    """
    _check_scheduler(scheduler)
    if not items:
        return
    if "://" in scheduler:
        from distributed import Client, as_completed

        with Client(scheduler) as client:
            futures = client.map(function, list(items), pure=False)
            position = {future.key: i for i, future in enumerate(futures)}
            for future in as_completed(futures):
                on_result(position[future.key], future.result())
        return
    import dask
    from dask.callbacks import Callback

    tasks = [dask.delayed(function, pure=False)(item, dask_key_name=f"frame-qc-{i}") for i, item in enumerate(items)]
    index_of = {f"frame-qc-{i}": i for i in range(len(items))}
    lock = threading.Lock()

    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if key in index_of:
            with lock:
                on_result(index_of[key], result)

    kwargs: dict[str, Any] = {"scheduler": scheduler}
    if n_workers > 0 and scheduler != "sync":
        kwargs["num_workers"] = n_workers
    with Callback(posttask=posttask):
        dask.compute(*tasks, **kwargs)
