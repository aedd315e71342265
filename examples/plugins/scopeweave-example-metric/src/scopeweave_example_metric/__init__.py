"""An example third-party plugin: the normalised gradient-energy sharpness metric."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave import FrameMetricSpec, hookimpl


@attrs.frozen(kw_only=True)
class GradientEnergyParams:
    """Parameters of ``gradient-energy``.

    Attributes
    ----------
    normalise
        Divide by the squared mean intensity, so a gain change does not change the score.
    """

    normalise: bool = True


class GradientEnergy:
    """Mean squared forward difference along x and y (higher is sharper)."""

    higher_is_sharper = True

    def __init__(self, params: GradientEnergyParams) -> None:
        self.normalise = params.normalise

    def __call__(self, frame: NDArray[np.generic]) -> float:
        image = np.asarray(frame, dtype=np.float64)
        energy = float(np.mean(np.diff(image, axis=0) ** 2) + np.mean(np.diff(image, axis=1) ** 2))
        if self.normalise:
            mean = float(image.mean())
            return energy / (mean * mean) if mean > 0 else 0.0
        return energy


def _make(params: GradientEnergyParams, uses: Any) -> GradientEnergy:
    return GradientEnergy(params)


@hookimpl
def scopeweave_frame_metrics() -> Iterable[FrameMetricSpec]:
    return [
        FrameMetricSpec(
            name="gradient-energy",
            summary="Mean squared intensity gradient, optionally divided by the squared mean (gain invariant).",
            params_type=GradientEnergyParams,
            factory=_make,
        )
    ]
