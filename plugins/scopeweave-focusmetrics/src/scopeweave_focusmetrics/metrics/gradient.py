"""Gradient family (Pertuz GRA1-GRA4, GRA6, GRA7).

``tenengrad`` and ``tenengrad-variance`` run one fused Sobel pass (reflect-101
border, as ``cv2.Sobel(ksize=3)``); the others are vectorised numpy / scipy.
"""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from scopeweave_focusmetrics._lazy import kernels
from scopeweave_focusmetrics._threads import map_row_blocks
from scopeweave_focusmetrics.metrics.base import FocusMetric, GainParams, params_doc

__all__ = [
    "EnergyOfGradient",
    "GaussianDerivative",
    "GaussianDerivativeParams",
    "SquaredGradient",
    "Tenengrad",
    "TenengradVariance",
    "ThresholdParams",
    "ThresholdedGradient",
]


def sobel_sums(frame: NDArray[np.generic]) -> tuple[float, float]:
    """Sums of G = Gx**2 + Gy**2 and G**2 (3x3 Sobel) over the whole frame."""
    h, w = frame.shape
    parts = map_row_blocks(kernels().sobel_moments, h, w, frame)
    return sum(p[0] for p in parts), sum(p[1] for p in parts)


class Tenengrad(FocusMetric):
    """Mean squared 3x3 Sobel gradient magnitude (Krotkov 1986, GRA6). Gain squared, offset invariant."""

    name = "tenengrad"
    family = "gradient"
    reference = "Pertuz GRA6 (TENG), Krotkov 1986; Micro-Manager 'Tenengrad'"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        return sobel_sums(frame)[0] / frame.size


class TenengradVariance(FocusMetric):
    """Variance of the squared Sobel gradient magnitude (Pech 2000, GRA7). Gain**4, offset invariant.

    Pertuz 2013: second most robust operator at the highest noise level.
    """

    name = "tenengrad-variance"
    family = "gradient"
    reference = "Pertuz GRA7 (TENV), Pech-Pacheco 2000"
    raw_gain_exponent = 4.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        s1, s2 = sobel_sums(frame)
        n = frame.size
        mean = s1 / n
        return max(s2 / n - mean * mean, 0.0)


class EnergyOfGradient(FocusMetric):
    """Mean of squared forward differences along x plus along y (Subbarao 1992, GRA2). Gain squared."""

    name = "energy-of-gradient"
    family = "gradient"
    reference = "Pertuz GRA2 (GRAE), Subbarao 1992"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        dx = image[:-1, 1:] - image[:-1, :-1]
        dy = image[1:, :-1] - image[:-1, :-1]
        return float(np.mean(dx * dx + dy * dy))


class SquaredGradient(FocusMetric):
    """Mean squared horizontal forward difference (Eskicioglu 1995, GRA4). Gain squared.

    Like the reference implementation it looks along x only; rotate frames whose detail runs along x.
    """

    name = "squared-gradient"
    family = "gradient"
    reference = "Pertuz GRA4 (GRAS), Eskicioglu 1995"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        dx = np.diff(frame.astype(np.float64), axis=1)
        return float(np.mean(dx * dx))


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


@attrs.frozen(kw_only=True)
class ThresholdParams(GainParams):
    threshold: float = attrs.field(default=0.0, validator=_non_negative)


ThresholdParams.__doc__ = params_doc(
    "Parameters of ``thresholded-gradient``.",
    {"threshold": "Gradients below this (counts per pixel) are ignored; 0 keeps every non-zero gradient."},
    common=("saturation_level", "normalise", "offset_adu"),
)


class ThresholdedGradient(FocusMetric):
    """Mean of max(|dx|, |dy|) over pixels where it exceeds ``threshold`` (Santos 1997, GRA3). Gain 1.

    With a non-zero threshold the gain law holds only while the same pixels pass.
    """

    name = "thresholded-gradient"
    family = "gradient"
    reference = "Pertuz GRA3 (GRAT), Santos 1997"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def __init__(self, params: ThresholdParams) -> None:
        super().__init__(params)
        self.threshold = params.threshold

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        dx = np.abs(image[:-1, 1:] - image[:-1, :-1])
        dy = np.abs(image[1:, :-1] - image[:-1, :-1])
        magnitude = np.maximum(dx, dy)
        passed = magnitude[magnitude > self.threshold]
        return float(passed.mean()) if passed.size else 0.0


def _sigma(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.3 <= value <= 20:
        raise ValueError(f"'{attribute.name}' must be between 0.3 and 20 px (got {value!r}).")


@attrs.frozen(kw_only=True)
class GaussianDerivativeParams(GainParams):
    sigma_px: float = attrs.field(default=2.8, validator=_sigma)


GaussianDerivativeParams.__doc__ = params_doc(
    "Parameters of ``gaussian-derivative`` and ``steerable-filters``.",
    {"sigma_px": "Scale of the Gaussian derivative filters (Pertuz: window 15 px, sigma = 7 / 2.5 = 2.8 px)."},
    common=("saturation_level", "normalise", "offset_adu"),
)


class GaussianDerivative(FocusMetric):
    """Mean of (dG/dx * I)**2 + (dG/dy * I)**2 at scale sigma_px (Geusebroek 2000, GRA1). Gain squared.

    Derivatives are normalised as in the reference: each kernel's absolute weights sum to one.
    """

    name = "gaussian-derivative"
    family = "gradient"
    reference = "Pertuz GRA1 (GDER), Geusebroek 2000"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def __init__(self, params: GaussianDerivativeParams) -> None:
        super().__init__(params)
        self.sigma_px = params.sigma_px

    def _score(self, frame: NDArray[np.generic]) -> float:
        rx, ry = gaussian_gradient(frame, self.sigma_px)
        return float(np.mean(rx * rx + ry * ry))


def gaussian_gradient(frame: NDArray[np.generic], sigma_px: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """x and y Gaussian-derivative responses, kernels scaled to unit absolute sum (reflect-101 border)."""
    image = frame.astype(np.float64)
    radius = max(int(np.ceil(2.5 * sigma_px)), 1)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-x * x / (2 * sigma_px**2))
    dg = -x * g / sigma_px**2
    # Separable derivative kernel dG(x) G(y); its absolute 2D sum is sum|dg| * sum(g).
    scale = 1.0 / (np.abs(dg).sum() * g.sum())
    rx = ndimage.correlate1d(ndimage.correlate1d(image, dg * scale, axis=1, mode="mirror"), g, axis=0, mode="mirror")
    ry = ndimage.correlate1d(ndimage.correlate1d(image, dg * scale, axis=0, mode="mirror"), g, axis=1, mode="mirror")
    return rx, ry
