"""Focus metrics vs OpenCV on one 2048 x 2048 uint16 frame, and all-vs-all correlation of 100 frames.

Run by hand in the bench venv (has opencv-python-headless):
    .venv-bench-focusmetrics/bin/python benchmarks/focusmetrics_bench.py
Prints a table, writes benchmarks/results/focusmetrics.json. Times are medians of ``--repeats`` runs
after warm-up; ours run on SCOPEWEAVE_THREADS threads, OpenCV on cv2.setNumThreads of the same count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import cv2
import numpy as np
from scopeweave_focusmetrics.correlation import all_vs_all, standardise
from scopeweave_focusmetrics.metrics import build_metric


def frame_2048(seed: int = 0) -> np.ndarray:
    """bg 100 + 300 Gaussian blobs (sigma 1.5-6 px, amplitude 200-3000), Poisson -> uint16 (as in peers.md)."""
    rng = np.random.default_rng(seed)
    n = 2048
    image = np.full((n, n), 100.0, dtype=np.float32)
    yy, xx = np.mgrid[-20:21, -20:21]
    for _ in range(300):
        y, x = rng.integers(20, n - 21, 2)
        sigma, amplitude = rng.uniform(1.5, 6), rng.uniform(200, 3000)
        image[y - 20 : y + 21, x - 20 : x + 21] += amplitude * np.exp(-(yy**2 + xx**2) / (2 * sigma**2))
    return rng.poisson(image).astype(np.uint16)


def median_ms(function, repeats: int) -> float:
    for _ in range(3):
        function()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        function()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def cv_lapvar(f):
    return float(cv2.meanStdDev(cv2.Laplacian(f, cv2.CV_32F))[1][0, 0] ** 2)


def cv_tenengrad(f):
    gx, gy = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.mean(gx * gx + gy * gy))


def cv_log(f):
    blurred = cv2.GaussianBlur(f.astype(np.float32), (0, 0), 1.0)
    return float(cv2.norm(cv2.Laplacian(blurred, cv2.CV_32F), cv2.NORM_L1) / f.size)


def cv_normvar(f):
    return float(f.var() / f.mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--corr-frames", type=int, default=100)
    parser.add_argument("--corr-px", type=int, default=512)
    args = parser.parse_args()
    frame = frame_2048()
    pairs = [("laplacian-variance", cv_lapvar), ("tenengrad", cv_tenengrad), ("mean-abs-log", cv_log),
             ("normalized-variance", cv_normvar)]
    rows = []
    for threads in args.threads:
        os.environ["SCOPEWEAVE_THREADS"] = str(threads)
        import scopeweave_focusmetrics._threads as pool

        pool._pool = None
        cv2.setNumThreads(threads)
        for name, peer in pairs:
            metric = build_metric(name)
            ours, theirs = metric(frame), peer(frame)
            t_ours = median_ms(lambda m=metric: m(frame), args.repeats)
            t_cv = median_ms(lambda p=peer: p(frame), args.repeats)
            rows.append({"case": name, "threads": threads, "ours_ms": t_ours, "opencv_ms": t_cv,
                         "speedup": t_cv / t_ours, "rel_diff": abs(ours - theirs) / abs(theirs)})
    rng = np.random.default_rng(1)
    base = frame[: args.corr_px, : args.corr_px].astype(np.float32)
    movie = np.stack([np.roll(base, (int(s), 0), axis=(0, 1)) + rng.normal(0, 5, base.shape).astype(np.float32)
                      for s in rng.integers(0, 3, args.corr_frames)]).astype(np.uint16)
    os.environ["SCOPEWEAVE_THREADS"] = str(max(args.threads))
    ours_matrix = all_vs_all(standardise(movie))
    peer_matrix = np.corrcoef(movie.reshape(len(movie), -1))
    t_ours = median_ms(lambda: all_vs_all(standardise(movie)), 5)
    t_np = median_ms(lambda: np.corrcoef(movie.reshape(len(movie), -1)), 5)
    flat = [f.astype(np.float32) for f in movie[:20]]
    t0 = time.perf_counter()
    for i in range(len(flat)):
        for j in range(i + 1, len(flat)):
            cv2.matchTemplate(flat[i], flat[j], cv2.TM_CCOEFF_NORMED)
    t_cv_pair = (time.perf_counter() - t0) / (len(flat) * (len(flat) - 1) / 2)
    n_pairs = args.corr_frames * (args.corr_frames - 1) / 2
    rows.append({"case": f"all-vs-all r, {args.corr_frames} x {args.corr_px}^2 u16", "threads": max(args.threads),
                 "ours_ms": t_ours, "numpy_corrcoef_ms": t_np, "opencv_matchTemplate_ms_est": 1000 * t_cv_pair * n_pairs,
                 "speedup_vs_numpy": t_np / t_ours, "max_abs_diff": float(np.abs(ours_matrix - peer_matrix).max())})
    print(f"{'case':44s} {'thr':>3s} {'ours ms':>9s} {'peer ms':>9s} {'speedup':>8s}  agreement")
    for r in rows:
        peer = r.get("opencv_ms", r.get("numpy_corrcoef_ms"))
        speed = r.get("speedup", r.get("speedup_vs_numpy"))
        agree = r.get("rel_diff", r.get("max_abs_diff"))
        print(f"{r['case']:44s} {r['threads']:>3d} {r['ours_ms']:9.2f} {peer:9.2f} {speed:8.2f}x  {agree:.2e}")
    out = {"machine": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
           "opencv": cv2.__version__, "numpy": np.__version__, "rows": rows}
    path = Path(__file__).parent / "results" / "focusmetrics.json"
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
