"""Spot detection: a band-pass filter, then local maxima above a noise-scaled threshold.

Two filters, as in ThunderSTORM:

``wavelet``
    The B-spline "a trous" wavelet of Izeddin et al. (2012): ``V1 = I * k``,
    ``V2 = V1 * k_2`` (``k`` with holes), the detection image is the second
    wavelet plane ``V1 - V2`` and the noise is measured on the first plane
    ``I - V1``.
``dog``
    Difference of Gaussians ``G(sigma) - G(1.6 sigma)``, noise measured on the
    filtered image.

The threshold is ``threshold_factor`` times a robust standard deviation
(1.4826 x median absolute deviation) of the noise plane, per frame.
Candidates are pixels that are the maximum of their
``(2 * min_separation_px + 1)``-square neighbourhood (8-connectivity for 1).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["DETECTION_FILTERS", "DetectionParams", "detect_frame", "filter_frame"]

DETECTION_FILTERS: tuple[str, ...] = ("wavelet", "dog")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


@attrs.frozen(kw_only=True)
class DetectionParams:
    """Candidate detection.

    Attributes
    ----------
    filter
        ``"wavelet"`` (B-spline a trous, ThunderSTORM's default) or ``"dog"``.
    threshold_factor
        Detection threshold in units of the robust noise standard deviation.
    wavelet_scale
        B-spline scale of the wavelet filter (ThunderSTORM: 2).
    wavelet_order
        B-spline order of the wavelet filter (ThunderSTORM: 3).
    dog_sigma_px
        Inner Gaussian of the DoG filter (about the PSF sigma); the outer one is 1.6 times wider.
    min_separation_px
        Half-size of the local-maximum neighbourhood.
    """

    filter: str = attrs.field(default="wavelet")
    threshold_factor: float = attrs.field(default=4.0, validator=_positive)
    wavelet_scale: float = attrs.field(default=2.0, validator=_positive)
    wavelet_order: int = attrs.field(default=3)
    dog_sigma_px: float = attrs.field(default=1.3, validator=_positive)
    min_separation_px: int = attrs.field(default=1)

    @filter.validator
    def _check_filter(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in DETECTION_FILTERS:
            raise ValueError(f"'filter' must be one of {DETECTION_FILTERS} (got {value!r}).")

    @wavelet_order.validator
    def _check_order(self, attribute: attrs.Attribute[int], value: int) -> None:
        if not 1 <= value <= 5:
            raise ValueError(f"'wavelet_order' must be between 1 and 5 (got {value!r}).")

    @min_separation_px.validator
    def _check_separation(self, attribute: attrs.Attribute[int], value: int) -> None:
        if value < 1:
            raise ValueError(f"'min_separation_px' must be >= 1 (got {value!r}).")


def _bspline_kernel(scale: float, order: int) -> NDArray[np.float64]:
    """Samples of the B-spline of ``order`` stretched by ``scale``, normalised to sum 1."""
    from scipy.interpolate import BSpline

    knots = np.arange(order + 2) - (order + 1) / 2.0
    basis = BSpline.basis_element(knots, extrapolate=False)
    half = int(np.ceil((order + 1) / 2.0 * scale)) - 1
    x = np.arange(-half, half + 1) / scale
    values = np.nan_to_num(basis(x))
    return values / values.sum()


def _dilate(kernel: NDArray[np.float64]) -> NDArray[np.float64]:
    holes = np.zeros(2 * len(kernel) - 1)
    holes[::2] = kernel
    return holes


def _separable(image: NDArray[np.float64], kernel: NDArray[np.float64]) -> NDArray[np.float64]:
    from scipy import ndimage

    out = ndimage.convolve1d(image, kernel, axis=0, mode="reflect")
    return ndimage.convolve1d(out, kernel, axis=1, mode="reflect")


def _robust_std(values: NDArray[np.float64]) -> float:
    median = np.median(values)
    return float(1.4826 * np.median(np.abs(values - median)))


def filter_frame(frame: NDArray[Any], params: DetectionParams) -> tuple[NDArray[np.float64], float]:
    """The detection image of ``frame`` and its noise standard deviation."""
    from scipy import ndimage

    image = np.asarray(frame, dtype=np.float64)
    if params.filter == "wavelet":
        kernel = _bspline_kernel(params.wavelet_scale, params.wavelet_order)
        v1 = _separable(image, kernel)
        v2 = _separable(v1, _dilate(kernel))
        filtered = v1 - v2
    else:
        inner = ndimage.gaussian_filter(image, params.dog_sigma_px, mode="reflect")
        outer = ndimage.gaussian_filter(image, 1.6 * params.dog_sigma_px, mode="reflect")
        filtered = inner - outer
    return filtered, _robust_std(filtered)


def detect_frame(frame: NDArray[Any], params: DetectionParams) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Candidate spot pixels of one frame as ``(rows, columns)``, brightest first."""
    from scipy import ndimage

    filtered, noise = filter_frame(frame, params)
    size = 2 * params.min_separation_px + 1
    peaks = ndimage.maximum_filter(filtered, size=size, mode="nearest") == filtered
    threshold = params.threshold_factor * noise
    peaks &= filtered > threshold
    rows, cols = np.nonzero(peaks)
    order = np.argsort(-filtered[rows, cols], kind="stable")
    return rows[order], cols[order]
