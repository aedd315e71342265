"""Running independent tasks locally or on a Dask cluster, with progress.

A workflow that processes many stacks, movies or chunks takes a ``scheduler``
parameter and hands it to :func:`map_tasks`:

``"threads"`` (default)
    a local thread pool (numpy and numba release the GIL);
``"synchronous"``
    one task after another in this thread (debugging);
``"processes"``
    a local process pool;
``"local-cluster"``
    a Dask ``distributed.LocalCluster`` on loopback, started and stopped here;
``"tcp://host:port"`` (or any Dask address: ``tls://``, ``inproc://``)
    an existing Dask scheduler.

Results come back in the order of the inputs whatever the order of completion.
Dask is needed only for the two cluster modes (``pip install scopeweave[dask]``).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from scopeweave.errors import ScopeweaveError

__all__ = ["SCHEDULER_CHOICES", "check_scheduler", "dask_client", "map_tasks"]

T = TypeVar("T")
R = TypeVar("R")

SCHEDULER_CHOICES = ("threads", "synchronous", "processes", "local-cluster")


def check_scheduler(value: str) -> None:
    """Raise ``ValueError`` (attrs style) for an unknown scheduler."""
    if value not in SCHEDULER_CHOICES and "://" not in value:
        raise ValueError(
            f"'scheduler' must be one of {', '.join(SCHEDULER_CHOICES)} or a 'tcp://host:port' address (got {value!r})."
        )


def scheduler_validator(instance: object, attribute: Any, value: str) -> None:
    """attrs validator for a ``scheduler`` field."""
    check_scheduler(value)


@contextlib.contextmanager
def dask_client(scheduler: str, *, n_workers: int | None = None, connect_timeout_s: float = 10.0) -> Iterator[Any]:
    """A ``distributed.Client`` for ``"local-cluster"`` or a ``tcp://`` address.

    ``"local-cluster"`` starts ``n_workers`` single-threaded worker processes on
    loopback (default: up to 4) and stops them on exit.  An address that cannot
    be reached within ``connect_timeout_s`` raises :class:`ScopeweaveError`.
    The client is not made Dask's default, so other Dask code is unaffected.
    """
    check_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            f"scheduler {scheduler!r} needs Dask distributed: pip install 'scopeweave[dask]'"
        ) from exc
    if scheduler == "local-cluster":
        workers = n_workers or max(1, min(4, os.cpu_count() or 1))
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                         processes=True) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
            yield client
    elif "://" in scheduler:
        try:
            client = Client(scheduler, timeout=f"{connect_timeout_s}s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ScopeweaveError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
    else:
        raise ValueError(f"dask_client needs 'local-cluster' or a scheduler address (got {scheduler!r}).")


def map_tasks(
    function: Callable[[T], R],
    items: Sequence[T],
    *,
    scheduler: str = "threads",
    max_workers: int | None = None,
    on_done: Callable[[int, R], None] | None = None,
) -> list[R]:
    """Apply ``function`` to every item and return the results in input order.

    ``on_done(index, result)`` is called in this thread as each task finishes
    (use it to advance a progress bar or write results as they arrive).
    The first exception raised by a task is re-raised after the others are cancelled.
    """
    check_scheduler(scheduler)
    results: list[Any] = [None] * len(items)

    def finished(index: int, result: R) -> None:
        results[index] = result
        if on_done is not None:
            on_done(index, result)

    if scheduler == "synchronous" or len(items) <= 1:
        for index, item in enumerate(items):
            finished(index, function(item))
        return results
    if scheduler in ("threads", "processes"):
        pool_type = concurrent.futures.ThreadPoolExecutor if scheduler == "threads" else concurrent.futures.ProcessPoolExecutor
        with pool_type(max_workers=max_workers) as pool:
            futures = {pool.submit(function, item): index for index, item in enumerate(items)}
            try:
                for future in concurrent.futures.as_completed(futures):
                    finished(futures[future], future.result())
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return results
    from distributed import as_completed

    with dask_client(scheduler, n_workers=max_workers) as client:
        dask_futures = [client.submit(function, item, pure=False) for item in items]
        index_of = {future.key: index for index, future in enumerate(dask_futures)}
        try:
            for done in as_completed(dask_futures, loop=client.loop):
                finished(index_of[done.key], done.result())
        except BaseException:
            client.cancel(dask_futures)
            raise
    return results
