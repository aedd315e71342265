"""The core's own plugin: registered through the same hooks as any other."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np
import tifffile

from scopeweave.atomic import atomic_path
from scopeweave.hookspecs import hookimpl
from scopeweave.kinds import Camera, FrameMetric
from scopeweave.runs import RunContext
from scopeweave.specs import Role, WorkflowSpec


def _at_least_one(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"'{attribute.name}' must be >= 1 (got {value}).")


@attrs.frozen(kw_only=True)
class AcquireParams:
    """Parameters of the ``acquire`` workflow.

    Attributes
    ----------
    n_frames
        Frames to record.
    filename
        Name of the multi-page TIFF written into the run directory.
    """

    n_frames: int = attrs.field(default=10, validator=_at_least_one)
    filename: str = "frames.tif"


class Acquire:
    """Record ``n_frames`` frames from a camera into one TIFF, optionally scoring each frame."""

    def __init__(self, params: AcquireParams, camera: Camera, metric: FrameMetric | None = None) -> None:
        self.params = params
        self.camera = camera
        self.metric = metric

    def run(self, context: RunContext) -> Mapping[str, Any]:
        shape = self.camera.frame_shape_px
        path = context.product_path(self.params.filename)
        means: list[float] = []
        scores: list[float] = []
        with (
            context.progress("acquire", self.params.n_frames) as progress,
            atomic_path(path) as tmp,
            tifffile.TiffWriter(tmp) as writer,
        ):
            for frame in self.camera.acquire_sequence(self.params.n_frames):
                writer.write(frame, contiguous=True)
                means.append(float(np.mean(frame)))
                if self.metric is not None:
                    scores.append(float(self.metric(frame)))
                progress.advance()
        context.events.emit("acquired", n_frames=len(means), file=self.params.filename)
        results: dict[str, Any] = {"n_frames": len(means), "frame_shape_px": list(shape), "mean_counts": means}
        if self.metric is not None:
            results["metric_scores"] = scores
            results["metric_higher_is_sharper"] = bool(self.metric.higher_is_sharper)
        return results


@hookimpl
def scopeweave_workflows() -> Iterable[WorkflowSpec]:
    return [
        WorkflowSpec(
            name="acquire",
            summary="Record frames from a camera into a multi-page TIFF; optionally score each with a FrameMetric.",
            params_type=AcquireParams,
            factory=lambda params, uses: Acquire(params, uses["camera"], uses.get("metric")),
            uses={
                "camera": Role(kind="camera", summary="the camera to record from"),
                "metric": Role(kind="frame_metric", required=False, summary="scores each frame"),
            },
        )
    ]
