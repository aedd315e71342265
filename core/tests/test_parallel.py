"""map_tasks: same results, in input order, on every scheduler (a real LocalCluster on loopback)."""

import math
import time

import pytest

from scopeweave.errors import ScopeweaveError
from scopeweave.parallel import check_scheduler, dask_client, map_tasks


def _slow_square(x: int) -> int:
    time.sleep(0.01 * (5 - x % 5))  # later items finish first
    return x * x


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("task 3 failed")
    return x


@pytest.mark.parametrize("scheduler", ["synchronous", "threads", "processes"])
def test_results_in_input_order(scheduler: str) -> None:
    done = []
    results = map_tasks(_slow_square, list(range(10)), scheduler=scheduler, on_done=lambda i, r: done.append(i))
    assert results == [x * x for x in range(10)]
    assert sorted(done) == list(range(10))


@pytest.mark.slow
def test_local_cluster_matches_threads() -> None:
    items = list(range(12))
    assert map_tasks(math.factorial, items, scheduler="local-cluster", max_workers=2) == map_tasks(math.factorial, items)


@pytest.mark.parametrize("scheduler", ["synchronous", "threads"])
def test_first_error_is_raised(scheduler: str) -> None:
    with pytest.raises(ValueError, match="task 3 failed"):
        map_tasks(_fails_on_three, list(range(6)), scheduler=scheduler)


def test_scheduler_validation() -> None:
    check_scheduler("tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="'scheduler' must be one of threads, synchronous, processes, local-cluster"):
        check_scheduler("gpu")


def test_unreachable_scheduler_is_a_clear_error() -> None:
    with (
        pytest.raises(ScopeweaveError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"),
        dask_client("tcp://127.0.0.1:9", connect_timeout_s=1.0),
    ):
        pass
