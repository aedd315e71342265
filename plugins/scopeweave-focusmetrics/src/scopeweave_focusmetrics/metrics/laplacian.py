"""Laplacian family (Pertuz LAP1-LAP4), mean |LoG| and the Laplacian/gradient ratio.

Stencils use OpenCV's default border (reflect-101), so ``laplacian-variance``
equals ``cv2.Laplacian(frame, cv2.CV_64F).var()`` and ``mean-abs-log`` equals
``mean(|cv2.Laplacian(cv2.GaussianBlur(frame, (0, 0), sigma))|)``.
"""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_focusmetrics._lazy import kernels
from scopeweave_focusmetrics._threads import map_row_blocks
from scopeweave_focusmetrics.metrics.base import FocusMetric, GainParams, params_doc

__all__ = [
    "DiagonalLaplacian",
    "LaplacianEnergy",
    "LaplacianGradientRatio",
    "LaplacianVariance",
    "LogParams",
    "MeanAbsLog",
    "ModifiedLaplacian",
]


def laplacian_sums(frame: NDArray[np.generic]) -> tuple[float, float, float]:
    """Sums of L, L**2 and |L| of the 5-point Laplacian over the whole frame."""
    h, w = frame.shape
    parts = map_row_blocks(kernels().laplacian_moments, h, w, frame)
    return sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts)


class LaplacianVariance(FocusMetric):
    """Variance of the 5-point Laplacian [0 1 0; 1 -4 1; 0 1 0] (Pech 2000, LAP4; the OpenCV one-liner).

    One fused pass: the Laplacian is never stored. Scales with gain squared, ignores offset.
    """

    name = "laplacian-variance"
    family = "laplacian"
    reference = "Pertuz LAP4 (LAPV), Pech-Pacheco 2000"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        s1, s2, _ = laplacian_sums(frame)
        n = frame.size
        mean = s1 / n
        return max(s2 / n - mean * mean, 0.0)


class LaplacianEnergy(FocusMetric):
    """Mean squared 5-point Laplacian (Subbarao 1992, LAP1). Gain squared, offset invariant."""

    name = "laplacian-energy"
    family = "laplacian"
    reference = "Pertuz LAP1 (LAPE), Subbarao 1992"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        return laplacian_sums(frame)[1] / frame.size


def _second_differences(image: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """[-1 2 -1] along x and along y on the interior pixels (valid region)."""
    lx = 2 * image[1:-1, 1:-1] - image[1:-1, :-2] - image[1:-1, 2:]
    ly = 2 * image[1:-1, 1:-1] - image[:-2, 1:-1] - image[2:, 1:-1]
    return lx, ly


class ModifiedLaplacian(FocusMetric):
    """Mean of |[-1 2 -1] along x| + |[-1 2 -1] along y| (Nayar 1989, LAP2). Gain 1, offset invariant."""

    name = "modified-laplacian"
    family = "laplacian"
    reference = "Pertuz LAP2 (LAPM), Nayar 1989"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        lx, ly = _second_differences(frame.astype(np.float64))
        return float(np.mean(np.abs(lx) + np.abs(ly)))


class DiagonalLaplacian(FocusMetric):
    """Modified Laplacian plus both diagonal second differences divided by sqrt(2) (Thelen 2009, LAP3)."""

    name = "diagonal-laplacian"
    family = "laplacian"
    reference = "Pertuz LAP3 (LAPD), Thelen 2009"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        lx, ly = _second_differences(image)
        centre = 2 * image[1:-1, 1:-1]
        d1 = (centre - image[:-2, :-2] - image[2:, 2:]) / np.sqrt(2.0)
        d2 = (centre - image[:-2, 2:] - image[2:, :-2]) / np.sqrt(2.0)
        return float(np.mean(np.abs(lx) + np.abs(ly) + np.abs(d1) + np.abs(d2)))


def _positive_sigma(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.1 <= value <= 20:
        raise ValueError(f"'{attribute.name}' must be between 0.1 and 20 px (got {value!r}).")


@attrs.frozen(kw_only=True)
class LogParams(GainParams):
    sigma_px: float = attrs.field(default=1.0, validator=_positive_sigma)


LogParams.__doc__ = params_doc(
    "Parameters of ``mean-abs-log``.",
    {"sigma_px": "Gaussian sigma before the Laplacian (kernel size round(8 sigma + 1) | 1, as OpenCV). "
                 "Larger values suppress pixel noise (Pertuz: LAP is the most noise-sensitive family)."},
    common=("saturation_level", "normalise", "offset_adu"),
)


class MeanAbsLog(FocusMetric):
    """Mean |Laplacian of Gaussian|: Gaussian blur (sigma_px), then the 5-point Laplacian, one fused pass.

    The blur rows live in a three-row ring buffer (float32); nothing frame-sized is written.
    Gain 1, offset invariant.
    """

    name = "mean-abs-log"
    family = "laplacian"
    reference = "|LoG| (Marr-Hildreth); seed 001 step 2"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def __init__(self, params: LogParams) -> None:
        super().__init__(params)
        self._weights = kernels().gaussian_weights(params.sigma_px)

    def _score(self, frame: NDArray[np.generic]) -> float:
        h, w = frame.shape
        parts = map_row_blocks(kernels().log_abs_moments, h, w, frame, self._weights)
        return sum(p[0] for p in parts) / frame.size


class LaplacianGradientRatio(FocusMetric):
    """sum(L**2) / sum(|Sobel gradient|**2): scale- and contrast-invariant sharpness (PlanktoScope PR #978).

    For a Gaussian edge of width sigma it falls as 1/sigma**2. Gain and offset invariant.
    """

    name = "laplacian-gradient-ratio"
    family = "laplacian"
    reference = "PlanktoScope PR #978 (sum Lap^2 / sum |grad|^2)"
    raw_gain_exponent = 0.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        _, lap2, _ = laplacian_sums(frame)
        h, w = frame.shape
        grad2 = sum(p[0] for p in map_row_blocks(kernels().sobel_moments, h, w, frame))
        # The 3x3 Sobel carries a factor 4 relative to a unit-step central difference.
        return 16.0 * lap2 / grad2 if grad2 > 0 else 0.0
