"""scopeweave-4dstem vs LiberTEM: CoM throughput in memory and streamed from chunked HDF5.

Run by hand in the bench venv (libertem installed next to the editable core and plugin)::

    .venv-bench-4dstem/bin/python benchmarks/4dstem_bench.py [--repeats 5] [--scan 64] [--detector 128]

Data (as in the peer notes): a (64, 64, 128, 128) float32 cube, a bright-field disk of radius
16 px at 1000 counts on a background of 10 whose centre ramps by +-2 px across the scan, six
weaker Bragg disks with three cluster-dependent intensity patterns, Poisson noise; written to
an HDF5 file with one scan row (4 MiB) per chunk, uncompressed.  Page cache warm, except in the
cold-cache table (the file's pages are dropped with ``posix_fadvise(DONTNEED)`` before every run).

Rows (median [min-max] of the repeats after one warm-up run; GB/s = dataset bytes / wall time):

* h5py raw read: ``read_direct`` of each chunk into a reused buffer (default chunk cache).
* LiberTEM ``CoMUDF.with_params(cy, cx)`` (whole-frame CoM, its fast path: one product with
  three masks), ``inline`` with one thread, and ``threads`` with 2 workers.
* scopeweave ``gated-com`` (CoM in a radial band that holds the whole frame: the same work),
  from memory, from the HDF5 file memory-mapped (the default for uncompressed data) and from the
  file read through h5py (``memory_map=False``, the path compressed data take).
* scopeweave ``polar-map`` mapping pass: adaptive cluster-gated CoM (3 gates) + matched
  filter (3 templates), without and with the log transform; the statistics pass that builds
  the templates is timed separately.

"1 core" = one task and BLAS limited to one thread; "2 threads" = two Dask threads (ours) or
two LiberTEM workers.  Writes benchmarks/results/4dstem.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def _timed(function: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    result = function()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - t0)
    return times, result


def _row(name: str, nbytes: int, times: list[float], **extra: Any) -> dict[str, Any]:
    rates = sorted(nbytes / t / 1e9 for t in times)
    return {
        "name": name,
        "gb_s_median": statistics.median(rates),
        "gb_s_min": rates[0],
        "gb_s_max": rates[-1],
        "seconds_median": statistics.median(times),
        **extra,
    }


def make_data(scan: int, detector: int, path: Path) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    from scopeweave_4dstem.params import SyntheticParams
    from scopeweave_4dstem.synthetic import write_hdf5

    params = SyntheticParams(
        scan_shape=(scan, scan), detector_shape_px=(detector, detector), n_clusters=3,
        disk_radius_px=16.0 * detector / 128, disk_intensity=1000.0, background=10.0,
        bragg_spacing_px=40.0 * detector / 128, bragg_intensity=100.0, field_px=0.3,
        descan_slope_px=4.0 / scan, dose=0.0, chunk_rows=1, seed=1,
    )
    truth = write_hdf5(path, params)
    import h5py

    with h5py.File(path, "r+") as file:  # Poisson noise, chunk by chunk
        data = file["/data"]
        rng = np.random.default_rng(2)
        for row in range(scan):
            data[row] = rng.poisson(data[row]).astype(np.float32)
        array = data[...]
    return array, truth.noisy_labels, truth.centre_yx


def bench_h5py(path: Path, repeats: int) -> list[dict[str, Any]]:
    """Plain h5py reads: per chunk with the default chunk cache (the peer notes' floor), and in
    16 MiB runs of chunks with the chunk cache off; the faster is the raw read rate."""
    import h5py

    rows = []
    for label, cache, rows_per_read in (("per chunk, default cache", None, 1), ("4 chunks per read, no cache", 0, 4)):
        kwargs = {} if cache is None else {"rdcc_nbytes": cache}
        with h5py.File(path, "r", **kwargs) as file:
            data = file["/data"]
            buffer = np.empty((rows_per_read, *data.shape[1:]), dtype=data.dtype)

            def read_all(d: Any = data, b: np.ndarray = buffer, step: int = rows_per_read) -> None:
                for row in range(0, d.shape[0], step):
                    d.read_direct(b, np.s_[row : row + step])

            times, _ = _timed(read_all, repeats)
        nbytes = int(np.prod(data.shape)) * data.dtype.itemsize
        rows.append(_row(f"h5py read_direct, {label}", nbytes, times, tool="h5py", source="hdf5", cores="1 core"))
    return rows


def bench_libertem(
    array: np.ndarray, path: Path, centre: tuple[float, float], repeats: int
) -> tuple[list[dict[str, Any]], np.ndarray]:
    import libertem
    from libertem.api import Context
    from libertem.executor.inline import InlineJobExecutor
    from libertem.udf.com import CoMUDF

    udf = CoMUDF.with_params(cy=centre[0], cx=centre[1])
    rows = []
    shifts = None
    contexts = {
        "1 core": lambda: Context(executor=InlineJobExecutor(inline_threads=1)),
        "2 threads": lambda: Context.make_with("threads", cpus=2),
    }
    for label, make in contexts.items():
        ctx = make()
        try:
            for source in ("memory", "hdf5"):
                dataset = ctx.load("memory", data=array, sig_dims=2) if source == "memory" else ctx.load(
                    "hdf5", path=str(path), ds_path="/data"
                )
                times, result = _timed(lambda c=ctx, d=dataset: c.run_udf(dataset=d, udf=udf), repeats)
                shifts = np.asarray(result["raw_shifts"].data)
                rows.append(_row(f"LiberTEM CoMUDF, {source}, {label}", array.nbytes, times,
                                 tool=f"libertem {libertem.__version__}", source=source, cores=label))
        finally:
            ctx.close()
    assert shifts is not None
    return rows, shifts


def bench_ours(
    array: np.ndarray, labels: np.ndarray, path: Path, centre: tuple[float, float], repeats: int
) -> tuple[list[dict[str, Any]], np.ndarray]:
    from scopeweave_4dstem.engine import analyse
    from scopeweave_4dstem.params import (
        CalibrationParams,
        ComputeParams,
        DpcParams,
        PolarSettings,
        PreprocessParams,
    )
    from scopeweave_4dstem.source import ArraySource, Hdf5Source
    from threadpoolctl import threadpool_limits

    calibration = CalibrationParams(center_y_px=centre[0], center_x_px=centre[1])
    configs = {
        "gated-com (CoM, same work as LiberTEM)": (None, PolarSettings(
            dpc=DpcParams(gate_mode="roi", baseline="none"), calibration=calibration)),
        "polar-map: adaptive gated CoM + matched filter, no log": (labels, PolarSettings(
            dpc=DpcParams(gate_mode="adaptive", baseline="none"), calibration=calibration,
            preprocess=PreprocessParams(log_transform=False))),
        "polar-map: adaptive gated CoM + matched filter, log": (labels, PolarSettings(
            dpc=DpcParams(gate_mode="adaptive", baseline="none"), calibration=calibration,
            preprocess=PreprocessParams(log_transform=True))),
    }
    computes = {"1 core": ComputeParams(scheduler="synchronous"), "2 threads": ComputeParams(scheduler="threads", n_workers=2)}
    sources = {
        "memory": ArraySource(array),
        "hdf5": Hdf5Source.open(path, "/data"),  # uncompressed: memory-mapped
        "hdf5 via h5py": Hdf5Source.open(path, "/data", memory_map=False),
    }
    rows = []
    com = None
    for name, (config_labels, settings) in configs.items():
        for label, compute in computes.items():
            for source_name, source in sources.items():
                limits = threadpool_limits(1, "blas") if label == "1 core" else None
                try:
                    walls, results = [], []
                    for _ in range(repeats + 1):
                        t0 = time.perf_counter()
                        results.append(analyse(source, config_labels, settings, compute))
                        walls.append(time.perf_counter() - t0)
                    walls, results = walls[1:], results[1:]
                finally:
                    if limits is not None:
                        limits.restore_original_limits()
                extra: dict[str, Any] = {"tool": "scopeweave-4dstem", "source": source_name, "cores": label}
                if config_labels is None:
                    # Like for like with LiberTEM's run_udf: the whole call (sample, pass, maps).
                    timed = walls
                    extra["timed"] = "whole analyse() call"
                else:
                    timed = [r.timings_s["mapping_pass_s"] for r in results]
                    extra["timed"] = "mapping pass (gated CoM + matched filter)"
                    stats_times = [r.timings_s["statistics_pass_s"] for r in results]
                    extra["statistics_pass_gb_s_median"] = array.nbytes / statistics.median(stats_times) / 1e9
                    extra["whole_run_gb_s_median"] = array.nbytes / statistics.median(walls) / 1e9
                rows.append(_row(f"{name}, {source_name}, {label}", array.nbytes, timed, **extra))
                if config_labels is None:
                    com = np.stack([results[-1].com_y, results[-1].com_x], axis=-1)
    assert com is not None
    return rows, com


def _evict(path: Path) -> None:
    """Drop the file's pages from the page cache (clean pages; no root needed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def bench_cold(path: Path, centre: tuple[float, float], nbytes: int, repeats: int) -> list[dict[str, Any]]:
    """One core, page cache emptied before every run: raw h5py read, LiberTEM and our CoM from disk."""
    import h5py
    from libertem.api import Context
    from libertem.executor.inline import InlineJobExecutor
    from libertem.udf.com import CoMUDF
    from scopeweave_4dstem.engine import analyse
    from scopeweave_4dstem.params import CalibrationParams, ComputeParams, DpcParams, PolarSettings
    from scopeweave_4dstem.source import Hdf5Source
    from threadpoolctl import threadpool_limits

    def raw_read() -> None:
        with h5py.File(path, "r", rdcc_nbytes=0) as file:
            data = file["/data"]
            buffer = np.empty((4, *data.shape[1:]), dtype=data.dtype)
            for row in range(0, data.shape[0], 4):
                data.read_direct(buffer, np.s_[row : row + 4])

    settings = PolarSettings(
        dpc=DpcParams(gate_mode="roi", baseline="none"),
        calibration=CalibrationParams(center_y_px=centre[0], center_x_px=centre[1]),
    )
    ctx = Context(executor=InlineJobExecutor(inline_threads=1))
    udf = CoMUDF.with_params(cy=centre[0], cx=centre[1])
    runs = {
        "h5py read_direct, 4 chunks per read, no cache": ("h5py", raw_read),
        "LiberTEM CoMUDF": ("libertem", lambda: ctx.run_udf(dataset=ctx.load("hdf5", path=str(path), ds_path="/data"), udf=udf)),
        "gated-com (CoM), memory-mapped": ("scopeweave-4dstem", lambda: analyse(
            Hdf5Source.open(path, "/data"), None, settings, ComputeParams(scheduler="synchronous"))),
        "gated-com (CoM), via h5py": ("scopeweave-4dstem", lambda: analyse(
            Hdf5Source.open(path, "/data", memory_map=False), None, settings, ComputeParams(scheduler="synchronous"))),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    try:
        with threadpool_limits(1, "blas"):
            for _ in range(repeats):  # interleaved, so drifts in disk speed hit every row alike
                for name, (_, run) in runs.items():
                    _evict(path)
                    t0 = time.perf_counter()
                    run()
                    times[name].append(time.perf_counter() - t0)
    finally:
        ctx.close()
    return [_row(f"{name}, cold", nbytes, times[name], tool=tool, source="hdf5 cold", cores="1 core")
            for name, (tool, _) in runs.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scan", type=int, default=64)
    parser.add_argument("--detector", type=int, default=128)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench4dstem-") as tmp:
        path = Path(tmp) / "cube.h5"
        t0 = time.perf_counter()
        array, labels, centre = make_data(args.scan, args.detector, path)
        print(f"data {array.shape} {array.dtype} {array.nbytes / 1e6:.0f} MB, made in {time.perf_counter() - t0:.1f} s")
        rows = bench_h5py(path, args.repeats)
        lt_rows, lt_shifts = bench_libertem(array, path, centre, args.repeats)
        our_rows, our_com = bench_ours(array, labels, path, centre, args.repeats)
        rows += lt_rows + our_rows
        cold_rows = bench_cold(path, centre, array.nbytes, args.repeats) if hasattr(os, "posix_fadvise") else []

    agreement = float(np.max(np.abs(our_com - lt_shifts)))
    by_name = {row["name"]: row for row in rows}
    raw = max(row["gb_s_median"] for row in rows if row["tool"] == "h5py")
    for row in cold_rows:
        row["fraction_of_raw_read"] = row["gb_s_median"] / cold_rows[0]["gb_s_median"]
    for row in rows:
        peer = by_name.get(f"LiberTEM CoMUDF, {str(row.get('source')).split()[0]}, {row.get('cores')}")
        if row["tool"] == "scopeweave-4dstem" and peer is not None:
            row["ratio_vs_libertem"] = row["gb_s_median"] / peer["gb_s_median"]
        if str(row.get("source")).startswith("hdf5"):
            row["fraction_of_raw_read"] = row["gb_s_median"] / raw

    import libertem

    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs ({platform.processor() or 'see the notes'})",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "libertem": libertem.__version__,
        "data": {"shape": list(array.shape), "dtype": str(array.dtype), "bytes": int(array.nbytes),
                 "hdf5_chunks": [1, args.scan, args.detector, args.detector]},
        "repeats": args.repeats,
        "max_abs_difference_of_com_vs_libertem_px": agreement,
        "raw_read_gb_s": raw,
        "load_average_1min_at_end": os.getloadavg()[0],
        "rows": rows,
        "cold_cache_rows": cold_rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "4dstem.json").write_text(json.dumps(report, indent=2) + "\n")

    print(f"\nCoM agreement with LiberTEM: max |difference| = {agreement:.2e} px\n")
    print("| what | source | cores | GB/s median [min-max] | vs LiberTEM | of raw read |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        ratio = f"{row['ratio_vs_libertem']:.2f}x" if "ratio_vs_libertem" in row else ""
        fraction = f"{row['fraction_of_raw_read']:.0%}" if "fraction_of_raw_read" in row else ""
        name = row["name"].rsplit(",", 2)[0]
        if row["tool"] == "h5py":
            name = row["name"]
        print(f"| {name} | {row['source']} | {row['cores']} | {row['gb_s_median']:.2f} "
              f"[{row['gb_s_min']:.2f}-{row['gb_s_max']:.2f}] | {ratio} | {fraction} |")
    if cold_rows:
        print("\nPage cache emptied before every run (1 core; 'of raw read' = of the cold raw h5py read):\n")
        print("| what | GB/s median [min-max] | of cold raw read |")
        print("|---|---|---|")
        for row in cold_rows:
            print(f"| {row['name'].removesuffix(', cold')} | {row['gb_s_median']:.2f} "
                  f"[{row['gb_s_min']:.2f}-{row['gb_s_max']:.2f}] | {row['fraction_of_raw_read']:.0%} |")
    stats_rows = [r for r in rows if "statistics_pass_gb_s_median" in r]
    if stats_rows:
        print("\npolar-map, whole run (sample + template statistics pass + mapping pass + maps):")
        for row in stats_rows:
            print(f"  {row['name']}: statistics pass {row['statistics_pass_gb_s_median']:.2f} GB/s, "
                  f"whole run {row['whole_run_gb_s_median']:.2f} GB/s")


if __name__ == "__main__":
    main()
