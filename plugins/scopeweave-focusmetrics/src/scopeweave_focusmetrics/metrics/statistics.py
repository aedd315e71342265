"""Statistics family (Pertuz STA1-STA8).

``gray-level-variance`` and ``normalized-variance`` are one fused pass
(moments about a pivot, float64 accumulation); the rest are vectorised.
"""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from scopeweave_focusmetrics._lazy import kernels
from scopeweave_focusmetrics._threads import map_row_blocks
from scopeweave_focusmetrics.metrics.base import FocusMetric, GainParams, SaturationParams, params_doc

__all__ = [
    "ChebyshevMoments",
    "ChebyshevParams",
    "EigenParams",
    "Eigenvalues",
    "GrayLevelLocalVariance",
    "GrayLevelVariance",
    "HistogramRange",
    "ModifiedGrayLevelVariance",
    "NormalizedVariance",
    "RangeParams",
    "WindowParams",
    "mean_and_variance",
]


def mean_and_variance(frame: NDArray[np.generic]) -> tuple[float, float]:
    """Mean and (population) variance in one pass, about a pivot from a sparse sample."""
    h, w = frame.shape
    pivot = float(frame[:: max(h // 16, 1), :: max(w // 16, 1)].mean(dtype=np.float64))
    parts = map_row_blocks(kernels().pivoted_moments, h, w, frame, pivot)
    n = frame.size
    d1 = sum(p[0] for p in parts) / n
    d2 = sum(p[1] for p in parts) / n
    return pivot + d1, max(d2 - d1 * d1, 0.0)


class GrayLevelVariance(FocusMetric):
    """Variance of the pixel values (Krotkov 1986, STA3). Gain squared, offset invariant.

    With ``normalise`` it becomes the squared coefficient of variation (var / mean**2).
    """

    name = "gray-level-variance"
    family = "statistics"
    reference = "Pertuz STA3 (GLVA), Krotkov 1986"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        return mean_and_variance(frame)[1]


class NormalizedVariance(FocusMetric):
    """Variance divided by the mean (Santos 1997, STA5; CellProfiler FocusScore, Micro-Manager).

    Not gain invariant: var/mean scales with gain (openastro #248); ``normalise`` divides once more by the
    mean. Offset changes it (the mean moves). A frame with mean <= 0 scores 0.
    """

    name = "normalized-variance"
    family = "statistics"
    reference = "Pertuz STA5 (GLVN), Santos 1997; Sun 2004 best for brightfield"
    raw_gain_exponent = 1.0
    raw_offset_invariant = False

    def _score(self, frame: NDArray[np.generic]) -> float:
        mean, variance = mean_and_variance(frame)
        return variance / mean if mean > 0 else 0.0


def _window(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not (3 <= value <= 101 and value % 2 == 1):
        raise ValueError(f"'{attribute.name}' must be an odd number of pixels between 3 and 101 (got {value!r}).")


@attrs.frozen(kw_only=True)
class WindowParams(GainParams):
    window_px: int = attrs.field(default=15, validator=_window)


WindowParams.__doc__ = params_doc(
    "Parameters of the windowed statistics metrics.",
    {"window_px": "Side of the square local window (odd; Pertuz uses 15)."},
    common=("saturation_level", "normalise", "offset_adu"),
)


def _local_mean(image: NDArray[np.float64], window_px: int) -> NDArray[np.float64]:
    return ndimage.uniform_filter(image, window_px, mode="mirror")


class GrayLevelLocalVariance(FocusMetric):
    """Variance over the frame of the local variance in a window (Pech 2000, STA4). Gain**4."""

    name = "gray-level-local-variance"
    family = "statistics"
    reference = "Pertuz STA4 (GLLV), Pech-Pacheco 2000"
    raw_gain_exponent = 4.0
    raw_offset_invariant = True

    def __init__(self, params: WindowParams) -> None:
        super().__init__(params)
        self.window_px = params.window_px

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        image -= image.mean()
        mean = _local_mean(image, self.window_px)
        local_var = np.maximum(_local_mean(image * image, self.window_px) - mean * mean, 0.0)
        return float(local_var.var())


class ModifiedGrayLevelVariance(FocusMetric):
    """Mean squared deviation from the local mean (STA6; the focus operator of Pertuz's fstack). Gain squared."""

    name = "modified-gray-level-variance"
    family = "statistics"
    reference = "Pertuz STA6 (GLVM); fstack gfocus"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def __init__(self, params: WindowParams) -> None:
        super().__init__(params)
        self.window_px = params.window_px

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        deviation = image - _local_mean(image, self.window_px)
        return float(np.mean(deviation * deviation))


def _percentile(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 <= value <= 100:
        raise ValueError(f"'{attribute.name}' must be between 0 and 100 (got {value!r}).")


@attrs.frozen(kw_only=True)
class RangeParams(GainParams):
    low_percentile: float = attrs.field(default=0.0, validator=_percentile)
    high_percentile: float = attrs.field(default=100.0, validator=_percentile)

    def __attrs_post_init__(self) -> None:
        if not self.low_percentile < self.high_percentile:
            raise ValueError(f"'low_percentile' ({self.low_percentile}) must be below 'high_percentile' "
                             f"({self.high_percentile}).")


RangeParams.__doc__ = params_doc(
    "Parameters of ``histogram-range``.",
    {"low_percentile": "Lower end of the range (0: the minimum; 0.1 ignores hot/cold pixels).",
     "high_percentile": "Upper end of the range (100: the maximum)."},
    common=("saturation_level", "normalise", "offset_adu"),
)


class HistogramRange(FocusMetric):
    """Grey-level range high - low (Firestone 1991, STA8), optionally between percentiles. Gain 1."""

    name = "histogram-range"
    family = "statistics"
    reference = "Pertuz STA8 (HISR), Firestone 1991"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def __init__(self, params: RangeParams) -> None:
        super().__init__(params)
        self.percentiles = (params.low_percentile, params.high_percentile)

    def _score(self, frame: NDArray[np.generic]) -> float:
        if self.percentiles == (0.0, 100.0):
            return float(frame.max()) - float(frame.min())
        low, high = np.percentile(frame.astype(np.float64), self.percentiles)
        return float(high - low)


def _order(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 2 <= value <= 64:
        raise ValueError(f"'{attribute.name}' must be between 2 and 64 (got {value!r}).")


@attrs.frozen(kw_only=True)
class ChebyshevParams(SaturationParams):
    max_order: int = attrs.field(default=24, validator=_order)
    low_order: int = attrs.field(default=4, validator=_order)

    def __attrs_post_init__(self) -> None:
        if not self.low_order < self.max_order:
            raise ValueError(f"'low_order' ({self.low_order}) must be below 'max_order' ({self.max_order}).")


ChebyshevParams.__doc__ = params_doc(
    "Parameters of ``chebyshev-moments``.",
    {"max_order": "Highest polynomial order per axis of the discrete Chebyshev (Tchebichef) moments.",
     "low_order": "Moments with p + q <= low_order (DC excluded) form the low-order energy."},
)


def chebyshev_basis(n: int, orders: int) -> NDArray[np.float64]:
    """Orthonormal discrete Chebyshev (Tchebichef) polynomials t_0..t_{orders-1} on 0..n-1, shape (orders, n).

    Built with the discrete Stieltjes recurrence and one re-orthogonalisation (stable for orders << n).
    """
    orders = min(orders, n)
    x = np.linspace(-1.0, 1.0, n)
    basis = np.zeros((orders, n))
    basis[0] = 1.0 / np.sqrt(n)
    previous = np.zeros(n)
    beta = 0.0
    for k in range(1, orders):
        alpha = float(np.dot(x * basis[k - 1], basis[k - 1]))
        nxt = (x - alpha) * basis[k - 1] - beta * previous
        nxt -= basis[:k].T @ (basis[:k] @ nxt)
        norm = float(np.linalg.norm(nxt))
        basis[k] = nxt / norm
        previous = basis[k - 1]
        beta = norm
    return basis


class ChebyshevMoments(FocusMetric):
    """Energy of high-order / low-order discrete Chebyshev moments (Yap & Raveendran 2004, STA1).

    Moments T = Py I Px^T with orthonormal polynomial bases; the ratio of the energy in orders
    low_order < p + q < max_order to that in 0 < p + q <= low_order. The DC moment is left out, and every
    higher polynomial is orthogonal to a constant, so the score ignores gain and offset.
    """

    name = "chebyshev-moments"
    family = "statistics"
    reference = "Pertuz STA1 (CHEB), Yap & Raveendran 2004"
    raw_gain_exponent = 0.0
    raw_offset_invariant = True

    def __init__(self, params: ChebyshevParams) -> None:
        super().__init__(params)
        self.max_order = params.max_order
        self.low_order = params.low_order

    def _score(self, frame: NDArray[np.generic]) -> float:
        h, w = frame.shape
        py = chebyshev_basis(h, self.max_order)
        px = chebyshev_basis(w, self.max_order)
        moments = py @ frame.astype(np.float64) @ px.T
        energy = moments * moments
        order = np.add.outer(np.arange(py.shape[0]), np.arange(px.shape[0]))
        low = float(energy[(order > 0) & (order <= self.low_order)].sum())
        high = float(energy[order > self.low_order].sum())
        return high / low if low > 0 else 0.0


def _k(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= 50:
        raise ValueError(f"'{attribute.name}' must be between 1 and 50 (got {value!r}).")


@attrs.frozen(kw_only=True)
class EigenParams(SaturationParams):
    n_eigenvalues: int = attrs.field(default=5, validator=_k)


EigenParams.__doc__ = params_doc(
    "Parameters of ``eigenvalues``.",
    {"n_eigenvalues": "How many of the largest eigenvalues of the row covariance to add up (Wee 2007: 5)."},
)


class Eigenvalues(FocusMetric):
    """Trace of the k largest eigenvalues of the covariance of the mean-normalised frame (Wee 2007, STA2).

    The frame is divided by its mean and centred, so gain cancels; an offset changes the mean and the score.
    Pertuz 2013: the most noise-robust operator. Eigenvalues come from a truncated SVD (ARPACK, fixed start).
    """

    name = "eigenvalues"
    family = "statistics"
    reference = "Pertuz STA2 (EIGV), Wee & Paramesran 2007"
    raw_gain_exponent = 0.0
    raw_offset_invariant = False

    def __init__(self, params: EigenParams) -> None:
        super().__init__(params)
        self.n_eigenvalues = params.n_eigenvalues

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        mean = float(image.mean())
        if not mean > 0:
            return 0.0
        centred = image / mean
        centred -= centred.mean(axis=1, keepdims=True)
        k = min(self.n_eigenvalues, min(centred.shape) - 1)
        if not np.any(centred):
            return 0.0
        if k >= min(centred.shape) - 1 or min(centred.shape) <= 64:
            singular = np.linalg.svd(centred, compute_uv=False)[:k]
        else:
            from scipy.sparse.linalg import svds

            singular = svds(centred, k=k, return_singular_vectors=False, v0=np.ones(min(centred.shape)),
                            random_state=0)
        return float(np.sum(singular**2) / (centred.shape[1] - 1))
