"""Dask execution: threads, one thread and a distributed cluster give the same answers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import numpy as np
import pytest
from scopeweave_4dstem.engine import PolarResult, analyse, plan_partitions
from scopeweave_4dstem.execution import Executor, resolve_backend
from scopeweave_4dstem.params import ComputeParams, DpcParams, PolarSettings, ValidationParams
from scopeweave_4dstem.source import Hdf5Source, plan_blocks
from scopeweave_4dstem.synthetic import SyntheticTruth

from scopeweave.errors import ScopeweaveError

SETTINGS = PolarSettings(dpc=DpcParams(gate_mode="adaptive", baseline="plane"),
                         validation=ValidationParams(enable_split_half=True))


def _run(path: Path, labels: np.ndarray, compute: ComputeParams) -> PolarResult:
    return analyse(Hdf5Source.open(path), labels, SETTINGS, compute)


def _assert_same(a: PolarResult, b: PolarResult) -> None:
    assert a.templates is not None
    assert b.templates is not None
    # Per-tile sums are float32 (merged in float64): templates agree to ~1e-7 whatever the tiling.
    np.testing.assert_allclose(a.templates, b.templates, atol=1e-6)
    np.testing.assert_array_equal(a.gates, b.gates)
    np.testing.assert_array_equal(a.assignment, b.assignment)
    # float32 products summed in blocks of different sizes: agreement to float32 precision.
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(a.com_y, b.com_y, atol=1e-4)
    np.testing.assert_allclose(a.field.ex, b.field.ex, atol=1e-4)
    np.testing.assert_allclose(a.ssim, b.ssim, atol=1e-4)


def test_threads_and_one_thread_agree_with_many_partitions(cluster_file: tuple[Path, SyntheticTruth]) -> None:
    path, truth = cluster_file
    many = _run(path, truth.noisy_labels, ComputeParams(scheduler="threads", n_workers=2, block_mib=0.02,
                                                        partition_mib=0.05))
    one = _run(path, truth.noisy_labels, ComputeParams(scheduler="synchronous", block_mib=8.0))
    assert many.throughput["n_partitions"] >= 4
    assert one.throughput["n_blocks"] < many.throughput["n_blocks"]
    _assert_same(many, one)


class _Bar:
    def __init__(self, steps: list[int]) -> None:
        self.steps = steps

    def advance(self, n: int = 1) -> None:
        self.steps.append(n)


def _recording_progress() -> tuple[Callable[[str, int], AbstractContextManager[_Bar]], dict[str, list[int]]]:
    """A progress factory for ``analyse`` and the steps each bar advanced by; a bar must reach its total."""
    counts: dict[str, list[int]] = {}

    @contextmanager
    def progress(label: str, total: int) -> Iterator[_Bar]:
        counts[label] = []
        yield _Bar(counts[label])
        assert sum(counts[label]) == total

    return progress, counts


def test_progress_advances_once_per_partition(cluster_file: tuple[Path, SyntheticTruth]) -> None:
    path, truth = cluster_file
    progress, counts = _recording_progress()
    result = analyse(Hdf5Source.open(path), truth.noisy_labels, SETTINGS,
                     ComputeParams(n_workers=2, block_mib=0.02, partition_mib=0.05), progress=progress)
    assert set(counts) == {"templates", "maps"}
    assert len(counts["maps"]) == result.throughput["n_partitions"]


def test_partitions_group_consecutive_blocks() -> None:
    blocks = plan_blocks((20, 10), (1, 10), frame_bytes=1000, target_bytes=20_000)
    parts = plan_partitions(blocks, frame_bytes=1000, partition_bytes=60_000, n_workers=2)
    assert [b for p in parts for b in p.blocks] == blocks
    assert len(parts) == 8  # at least 4 per worker
    assert sum(p.n_frames for p in parts) == 200


def test_cupy_backend_is_refused_clearly_without_cupy() -> None:
    pytest.importorskip("numpy")
    try:
        import cupy  # noqa: F401
    except ImportError:
        with pytest.raises(ScopeweaveError, match="CuPy is not usable"):
            resolve_backend("cupy")
        assert resolve_backend("auto") == "cpu"
    else:  # pragma: no cover - only on GPU machines
        assert resolve_backend("auto") in ("cpu", "cupy")
    assert resolve_backend("cpu") == "cpu"


def test_unreachable_scheduler_is_a_clear_error() -> None:
    with pytest.raises(ScopeweaveError, match="cannot reach the Dask scheduler"), Executor("tcp://127.0.0.1:9", 0, connect_timeout_s=1.0):
        pass


@pytest.mark.slow
def test_distributed_cluster_on_loopback_matches_the_local_run(cluster_file: tuple[Path, SyntheticTruth]) -> None:
    from distributed import LocalCluster

    path, truth = cluster_file
    local = _run(path, truth.noisy_labels, ComputeParams(scheduler="threads", n_workers=2, block_mib=0.02))
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
        protocol="tcp",
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        remote = _run(path, truth.noisy_labels, ComputeParams(scheduler=address, block_mib=0.02, partition_mib=0.05))
    assert remote.throughput["n_partitions"] >= 4
    _assert_same(local, remote)


@pytest.mark.slow
@pytest.mark.parametrize("scheduler", ["processes", "local-cluster"])
def test_processes_and_a_local_cluster_match_the_local_run(
    scheduler: str, cluster_file: tuple[Path, SyntheticTruth], tmp_path: Path
) -> None:
    import h5py

    path, truth = cluster_file
    # gzip: the data h5py must decode (holding the GIL), which is what processes are for.
    packed = tmp_path / "packed.h5"
    with h5py.File(path, "r") as source, h5py.File(packed, "w") as target:
        data = source["/data"]
        target.create_dataset("/data", data=data[...], chunks=data.chunks, compression="gzip", shuffle=True)
    local = _run(path, truth.noisy_labels, ComputeParams(scheduler="threads", n_workers=2, block_mib=0.02))
    progress, counts = _recording_progress()
    compute = ComputeParams(scheduler=scheduler, n_workers=2, block_mib=0.02, partition_mib=0.05)
    source = Hdf5Source.open(packed)
    assert source.storage is None
    other = analyse(source, truth.noisy_labels, SETTINGS, compute, progress=progress)
    assert len(counts["maps"]) == other.throughput["n_partitions"] >= 4
    _assert_same(local, other)
