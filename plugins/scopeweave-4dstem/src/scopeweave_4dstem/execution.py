"""Running partition tasks on Dask: local threads, or a distributed scheduler.

Work is a list of partitions (runs of chunk-aligned blocks) and one shared
object (the source description and the weights).  Two patterns:

* :meth:`Executor.reduce` merges the partials of all partitions in whatever
  order they finish (a tree of merges; memory holds a few partials, never
  one per partition);
* :meth:`Executor.map` hands each partition's result to a callback as it
  arrives.

Locally the graph runs on Dask's threaded scheduler (BLAS limited to one
thread per task so the threads do not oversubscribe the cores); with
``scheduler = "tcp://host:port"`` it runs on that Dask cluster, the shared
object scattered once to every worker.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType, TracebackType
from typing import Any, TypeVar

from scopeweave.errors import ScopeweaveError

__all__ = ["Executor", "array_module", "resolve_backend"]

T = TypeVar("T")
P = TypeVar("P")

_FAN_IN = 4


def resolve_backend(backend: str) -> str:
    """``"cpu"`` or ``"cupy"`` for a requested backend; ``"cupy"`` must be usable."""
    if backend == "cpu":
        return "cpu"
    problem = _cupy_problem()
    if problem is None:
        return "cupy"
    if backend == "cupy":
        raise ScopeweaveError(
            f"backend = 'cupy' but CuPy is not usable here: {problem}. Install it with "
            "`pip install scopeweave-4dstem[gpu]` on a machine with a CUDA GPU, or use backend = 'cpu' or 'auto'."
        )
    return "cpu"


def _cupy_problem() -> str | None:
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
    except Exception as exc:  # noqa: BLE001 - any CUDA failure means no GPU
        return f"CUDA is not available ({exc})"
    return None


def array_module(backend: str) -> ModuleType:
    """NumPy for ``"cpu"``, CuPy for ``"cupy"`` (as resolved by :func:`resolve_backend`)."""
    if backend == "cupy":
        import cupy

        return cupy
    import numpy

    return numpy


class Executor:
    """Runs partition tasks; use as a context manager (it connects to and leaves the cluster).

    Parameters
    ----------
    scheduler
        ``"threads"``, ``"sync"`` or a Dask scheduler address.
    n_workers
        Threads for ``"threads"`` (0: ``os.cpu_count()``).
    connect_timeout_s
        How long to try to reach a distributed scheduler.
    """

    def __init__(self, scheduler: str = "threads", n_workers: int = 0, *, connect_timeout_s: float = 10.0) -> None:
        self.scheduler = scheduler
        self.connect_timeout_s = connect_timeout_s
        self.n_threads = 1 if scheduler == "sync" else (n_workers or os.cpu_count() or 1)
        self._client: Any = None

    @property
    def distributed(self) -> bool:
        """Whether a Dask cluster runs the tasks."""
        return "://" in self.scheduler

    @property
    def n_workers(self) -> int:
        """Parallel tasks the executor runs at once."""
        if self._client is not None:
            info = self._client.scheduler_info()
            return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))
        return self.n_threads

    def __enter__(self) -> Executor:
        if self.distributed:
            from distributed import Client

            try:
                self._client = Client(self.scheduler, timeout=f"{self.connect_timeout_s}s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ScopeweaveError(f"cannot reach the Dask scheduler at {self.scheduler}: {exc}") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def reduce(
        self,
        function: Callable[[P, Any], T],
        items: Sequence[P],
        shared: Any,
        merge: Callable[..., T],
        on_done: Callable[[], None],
    ) -> T:
        """``merge`` of ``function(item, shared)`` over all items, merged in completion order."""
        if not items:
            raise ValueError("nothing to do: no partitions")
        if self._client is not None:
            return self._reduce_distributed(function, items, shared, merge, on_done)
        import dask

        token = uuid.uuid4().hex
        shared_node = dask.delayed(shared, name=f"shared-{token}")
        keys = [f"part-{token}-{i}" for i in range(len(items))]
        level = [
            dask.delayed(function, pure=False)(item, shared_node, dask_key_name=key)
            for item, key in zip(items, keys, strict=True)
        ]
        depth = 0
        while len(level) > 1:
            level = [
                dask.delayed(merge, pure=False)(*level[i : i + _FAN_IN], dask_key_name=f"merge-{token}-{depth}-{i}")
                for i in range(0, len(level), _FAN_IN)
            ]
            depth += 1
        with self._local(set(keys), on_done):
            (result,) = dask.compute(level[0], scheduler=self._local_scheduler, num_workers=self.n_threads)
        return result

    def map(
        self,
        function: Callable[[P, Any], T],
        items: Sequence[P],
        shared: Any,
        on_result: Callable[[T], None],
        on_done: Callable[[], None],
    ) -> None:
        """Call ``on_result(function(item, shared))`` for each item; ``on_done()`` as each finishes."""
        if self._client is not None:
            from distributed import as_completed

            shared_future = self._client.scatter(shared, broadcast=True, hash=False)
            futures = self._client.map(function, items, [shared_future] * len(items), pure=False)
            for future in as_completed(futures, loop=self._client.loop):
                on_result(future.result())
                future.release()
                on_done()
            return
        import dask

        token = uuid.uuid4().hex
        shared_node = dask.delayed(shared, name=f"shared-{token}")
        keys = [f"part-{token}-{i}" for i in range(len(items))]
        tasks = [
            dask.delayed(function, pure=False)(item, shared_node, dask_key_name=key)
            for item, key in zip(items, keys, strict=True)
        ]
        with self._local(set(keys), on_done):
            results = dask.compute(*tasks, scheduler=self._local_scheduler, num_workers=self.n_threads)
        for result in results:
            on_result(result)

    @property
    def _local_scheduler(self) -> str:
        return "sync" if self.scheduler == "sync" else "threads"

    @contextlib.contextmanager
    def _local(self, keys: set[str], on_done: Callable[[], None]) -> Iterator[None]:
        from dask.callbacks import Callback
        from threadpoolctl import threadpool_limits

        class _Progress(Callback):
            def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
                if key in keys:
                    on_done()

        limits = threadpool_limits(limits=1, user_api="blas") if self.n_threads > 1 else contextlib.nullcontext()
        with limits, _Progress():
            yield

    def _reduce_distributed(
        self,
        function: Callable[[P, Any], T],
        items: Sequence[P],
        shared: Any,
        merge: Callable[..., T],
        on_done: Callable[[], None],
    ) -> T:
        from distributed import as_completed

        client = self._client
        shared_future = client.scatter(shared, broadcast=True, hash=False)
        parts = client.map(function, items, [shared_future] * len(items), pure=False)
        part_keys = {future.key for future in parts}
        pending = None
        completed = as_completed(parts, loop=client.loop)
        for future in completed:
            if future.key in part_keys:
                on_done()
            if pending is None:
                pending = future
            else:
                completed.add(client.submit(merge, pending, future, pure=False))
                pending = None
        assert pending is not None
        return pending.result()
