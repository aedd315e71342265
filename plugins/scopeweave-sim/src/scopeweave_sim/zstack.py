"""Workflow ``sim-zstack``: record a Z stack around the current focus to TIFF."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

import numpy as np
import tifffile

from scopeweave.atomic import atomic_path, write_text_atomic
from scopeweave.kinds import Camera, Stage
from scopeweave.runs import RunContext
from scopeweave_sim.params import ZStackParams

__all__ = ["ZStack"]


class ZStack:
    """Step a Z stage through a range, record the camera at each plane, return to the start."""

    def __init__(self, params: ZStackParams, *, camera: Camera, stage: Stage) -> None:
        if stage.axes != ("z",):
            raise ValueError(f"'stage' must be a Z stage with axes ('z',) (got {stage.axes}).")
        self.params = params
        self.camera = camera
        self.stage = stage

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        start_um = self.stage.position_um()[0]
        planes_um = start_um + np.linspace(-p.half_range_um, p.half_range_um, p.n_steps)
        low, high = self.stage.limits_um[0]
        if planes_um[0] < low or planes_um[-1] > high:
            raise ValueError(
                f"the stack {planes_um[0]:.3f}..{planes_um[-1]:.3f} um leaves the stage limits [{low}, {high}] um; "
                "reduce half_range_um or move the stage."
            )
        planes = []
        try:
            with context.progress("z-stack", p.n_steps) as progress, context.timed("acquire"):
                for z_um in planes_um:
                    self.stage.move_to_um((float(z_um),))
                    frames = [self.camera.snap().astype(np.float64) for _ in range(p.frames_per_step)]
                    planes.append(np.mean(frames, axis=0))
                    progress.advance()
        finally:
            self.stage.move_to_um((start_um,))
        stack = np.stack(planes)
        dtype = np.uint16 if p.frames_per_step == 1 else np.float32
        with atomic_path(context.product_path(p.filename)) as tmp:
            tifffile.imwrite(tmp, stack.astype(dtype), metadata={"axes": "ZYX"},
                             resolution=(1 / self.camera.pixel_size_um, 1 / self.camera.pixel_size_um))
        table = io.StringIO()
        writer = csv.writer(table, lineterminator="\n")
        writer.writerow(["z_um", "mean_counts", "max_counts"])
        for z_um, plane in zip(planes_um, stack, strict=True):
            writer.writerow([f"{z_um:.6f}", f"{plane.mean():.3f}", f"{plane.max():.3f}"])
        csv_name = p.filename.rsplit(".", 1)[0] + ".csv"
        write_text_atomic(context.product_path(csv_name), table.getvalue())
        brightest = int(np.argmax(stack.reshape(len(stack), -1).max(axis=1)))
        summary = (f"z-stack: {p.n_steps} planes over {planes_um[0]:.3f}..{planes_um[-1]:.3f} um; "
                   f"brightest plane at z = {planes_um[brightest]:.3f} um")
        return {
            "summary": summary,
            "n_planes": p.n_steps,
            "z_start_um": float(planes_um[0]),
            "z_stop_um": float(planes_um[-1]),
            "brightest_plane_z_um": float(planes_um[brightest]),
            "returned_to_um": self.stage.position_um()[0],
        }
