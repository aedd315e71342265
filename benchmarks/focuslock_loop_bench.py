"""One focus-lock control-loop iteration, excluding the exposure: measure + control + stage command.

Frames are pre-rendered by the simulated camera (so the exposure and the
rendering are not timed); each iteration runs exactly what ``FocusLockRunner``
does after ``snap()``: counts -> photons, the elliptical MLE fit with theta
fixed, the z inversion, the controller, and a Z-stage move command.

    .venv/bin/python benchmarks/focuslock_loop_bench.py [--iterations 10000]

Prints a table and writes benchmarks/results/focuslock_loop.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from scopeweave_focuslock.lock.controller import FocusLockController, LockSettings
from scopeweave_focuslock.lock.reader import FocusReader
from scopeweave_focuslock.params import CalibrateParams, DetectionOptions
from scopeweave_focuslock.sweep import CalibrationSweep
from scopeweave_sim import SimAstigmaticCamera, SimCameraParams, SimZParams, SimZStage

from scopeweave.kinds import Roi

RESULTS = Path(__file__).parent / "results"


def measure(roi_px: int, iterations: int) -> dict[str, float]:
    camera_params = SimCameraParams(sensor_shape_px=(roi_px, roi_px), photons=1e4, seed=1)
    z = SimZStage(SimZParams(start_um=100.0))
    with z, SimAstigmaticCamera(camera_params, z_stage=z) as cam:
        sweep = CalibrationSweep(CalibrateParams(settle_ms=0.0, roi_size_px=min(roi_px, 21), n_steps=31, save_frames=False),
                                 camera=cam, stage=z, model=None)
        calibration = sweep.process(sweep.acquire())
        frames = [cam.snap() for _ in range(200)]  # the ROI is the whole (roi_px x roi_px) sensor
    stage = SimZStage(SimZParams(start_um=100.0))
    stage.initialize()
    reader = FocusReader(calibration, detection=DetectionOptions(), counts_to_photons=cam.counts_to_photons,
                         full_scale=2**16 - 1, readout_variance=1.5**2 + 1 / 12)
    controller = FocusLockController(LockSettings(engage_readings=1, command_deadband_um=0.0),
                                     stage_limits_um=stage.limits_um[0])
    controller.engage(100.0)
    roi = Roi(x_px=0, y_px=0, width_px=roi_px, height_px=roi_px)
    for frame in frames[:50]:  # warm-up (numba compiled, caches hot)
        reader.measure(frame, roi)
    times = np.empty(iterations)
    for i in range(iterations):
        frame = frames[i % len(frames)]
        t0 = time.perf_counter()
        reading = reader.measure(frame, roi).reading
        position = stage.position_um()[0]
        decision = controller.step(reading, position)
        if decision.target_z_um is not None:
            stage.move_to_um((decision.target_z_um,))
        times[i] = time.perf_counter() - t0
    return {"roi_px": roi_px, "iterations": iterations, "median_ms": float(np.median(times) * 1e3),
            "p99_ms": float(np.percentile(times, 99) * 1e3), "max_ms": float(times.max() * 1e3),
            "mean_ms": float(times.mean() * 1e3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=10_000)
    args = parser.parse_args()
    rows = [measure(size, args.iterations) for size in (32, 64)]
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        f"One loop iteration (fit + inversion + control + stage command; exposure excluded), "
        f"{args.iterations} iterations per ROI, single thread. Machine: {machine}. Goal: p99 < 1 ms.",
        "",
        "| ROI (px) | median (ms) | p99 (ms) | max (ms) | p99 < 1 ms |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['roi_px']}x{row['roi_px']} | {row['median_ms']:.3f} | {row['p99_ms']:.3f} | "
                     f"{row['max_ms']:.3f} | {'yes' if row['p99_ms'] < 1.0 else 'no'} |")
    table = "\n".join(lines)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "focuslock_loop.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    (RESULTS / "focuslock_loop.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
