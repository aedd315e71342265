"""Running one function over many samples on Dask, reporting each completion.

``scheduler`` is ``"threads"`` (default: the numba fits release the GIL),
``"processes"``, ``"synchronous"`` (debugging), or the address of a
Dask distributed scheduler (``"tcp://host:8786"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from scopeweave.errors import ScopeweaveError

__all__ = ["LOCAL_SCHEDULERS", "check_scheduler", "map_samples"]

T = TypeVar("T")
R = TypeVar("R")

LOCAL_SCHEDULERS: tuple[str, ...] = ("threads", "processes", "synchronous")


def check_scheduler(value: str) -> None:
    """Raise ValueError unless ``value`` is a local scheduler name or a ``tcp://`` address."""
    if value not in LOCAL_SCHEDULERS and not value.startswith(("tcp://", "tls://")):
        raise ValueError(f"'scheduler' must be one of {LOCAL_SCHEDULERS} or a 'tcp://host:port' address (got {value!r}).")


def map_samples(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    scheduler: str = "threads",
    n_workers: int = 0,
    on_done: Callable[[int, R], None] | None = None,
) -> list[R]:
    """``[func(item) for item in items]`` on Dask; ``on_done(index, result)`` as each finishes."""
    check_scheduler(scheduler)
    if not items:
        return []
    if scheduler.startswith(("tcp://", "tls://")):
        return _map_distributed(func, items, scheduler, on_done)
    import dask
    from dask.callbacks import Callback

    keys = [f"puncta-sample-{index}" for index in range(len(items))]
    index_of = {key: index for index, key in enumerate(keys)}
    tasks = [dask.delayed(func, pure=False)(item, dask_key_name=key) for item, key in zip(items, keys, strict=True)]

    class _Report(Callback):
        def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            if on_done is not None and key in index_of:
                on_done(index_of[key], result)

    options: dict[str, Any] = {"scheduler": scheduler}
    if n_workers > 0 and scheduler != "synchronous":
        options["num_workers"] = n_workers
    with _Report():
        results = dask.compute(*tasks, **options)
    return list(results)


def _map_distributed(func: Callable[[T], R], items: Sequence[T], address: str,
                     on_done: Callable[[int, R], None] | None) -> list[R]:
    from dask.distributed import Client, as_completed

    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ScopeweaveError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = client.map(func, items, pure=False)
        position = {future.key: index for index, future in enumerate(futures)}
        results: list[Any] = [None] * len(items)
        for future in as_completed(futures):
            index = position[future.key]
            results[index] = future.result()
            if on_done is not None:
                on_done(index, results[index])
    return results
