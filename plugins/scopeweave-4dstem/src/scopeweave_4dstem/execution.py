"""Running partition tasks on Dask: local threads or processes, or a distributed cluster.

Work is a list of partitions (runs of chunk-aligned blocks) and one shared
object (the source description and the weights).  Two patterns:

* :meth:`Executor.reduce` merges the partials of all partitions in whatever
  order they finish (a tree of merges; memory holds a few partials, never
  one per partition);
* :meth:`Executor.map` hands each partition's result to a callback as it
  arrives.

The ``scheduler`` names are core's (:mod:`scopeweave.parallel`): locally the
graph runs on Dask's threaded, synchronous or multiprocessing scheduler, with
BLAS limited to one thread per task so tasks do not oversubscribe the cores
(processes suit data h5py must decompress: it holds the GIL while it does);
``"local-cluster"`` or ``"tcp://host:port"`` runs it on a Dask cluster, the
shared object scattered once to every worker.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from types import ModuleType, TracebackType
from typing import Any, TypeVar

from scopeweave.errors import ScopeweaveError
from scopeweave.parallel import check_scheduler, dask_client

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


_LOCAL_SCHEDULERS = {"threads": "threads", "synchronous": "sync", "processes": "processes"}


class Executor:
    """Runs partition tasks; use as a context manager (it connects to, or starts, a cluster).

    Parameters
    ----------
    scheduler
        ``"threads"``, ``"synchronous"``, ``"processes"``, ``"local-cluster"``
        or a Dask scheduler address (see :mod:`scopeweave.parallel`).
    n_workers
        Threads, processes or cluster workers started here (0: one per CPU core).
    connect_timeout_s
        How long to try to reach a distributed scheduler.
    """

    def __init__(self, scheduler: str = "threads", n_workers: int = 0, *, connect_timeout_s: float = 10.0) -> None:
        check_scheduler(scheduler)
        self.scheduler = scheduler
        self.connect_timeout_s = connect_timeout_s
        self.n_local = 1 if scheduler == "synchronous" else (n_workers or os.cpu_count() or 1)
        self._client: Any = None
        self._pool: ProcessPoolExecutor | None = None
        self._stack = contextlib.ExitStack()

    @property
    def distributed(self) -> bool:
        """Whether a Dask cluster runs the tasks."""
        return self.scheduler not in _LOCAL_SCHEDULERS

    @property
    def n_workers(self) -> int:
        """Parallel tasks the executor runs at once."""
        if self._client is not None:
            info = self._client.scheduler_info()
            return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))
        return self.n_local

    def __enter__(self) -> Executor:
        if self.distributed:
            self._client = self._stack.enter_context(
                dask_client(self.scheduler, n_workers=self.n_local, connect_timeout_s=self.connect_timeout_s)
            )
        elif self.scheduler == "processes":  # one pool for every pass: the processes start once
            context = multiprocessing.get_context("spawn")  # forking a process that runs threads is unsafe
            self._pool = self._stack.enter_context(
                ProcessPoolExecutor(self.n_local, mp_context=context, initializer=_one_blas_thread)
            )
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._client = self._pool = None
        self._stack.close()

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
            (result,) = dask.compute(level[0], **self._local_options)
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
            results = dask.compute(*tasks, **self._local_options)
        for result in results:
            on_result(result)

    @property
    def _local_options(self) -> dict[str, Any]:
        """``dask.compute`` options of the local schedulers."""
        options: dict[str, Any] = {"scheduler": _LOCAL_SCHEDULERS[self.scheduler], "num_workers": self.n_local}
        if self._pool is not None:
            options["pool"] = self._pool
        return options

    @contextlib.contextmanager
    def _local(self, keys: set[str], on_done: Callable[[], None]) -> Iterator[None]:
        from dask.callbacks import Callback
        from threadpoolctl import threadpool_limits

        class _Progress(Callback):
            def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
                if key in keys:
                    on_done()

        threads = self.scheduler == "threads" and self.n_local > 1
        limits = threadpool_limits(limits=1, user_api="blas") if threads else contextlib.nullcontext()
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



def _one_blas_thread() -> None:
    """Process-pool initializer: BLAS runs one thread per worker process."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
