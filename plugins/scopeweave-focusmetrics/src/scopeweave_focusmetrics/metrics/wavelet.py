"""Wavelet family (Pertuz WAV1-WAV3), on PyWavelets' 2D DWT (symmetric extension).

The detail coefficients are used directly (Yang 2003; Xie 2006) rather than
reconstructed images; batches transform the whole stack in one call.
"""

from __future__ import annotations

import abc

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_focusmetrics._frames import as_batch, kernel_ready
from scopeweave_focusmetrics.metrics.base import FocusMetric, GainParams, SaturationParams, params_doc

__all__ = ["WaveletParams", "WaveletRatio", "WaveletRatioParams", "WaveletSum", "WaveletVariance"]


def _wavelet(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    import pywt

    if value not in pywt.wavelist(kind="discrete"):
        raise ValueError(f"'{attribute.name}' must be a discrete PyWavelets wavelet such as 'db6', 'haar' "
                         f"(got {value!r}).")


def _levels(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= 6:
        raise ValueError(f"'{attribute.name}' must be between 1 and 6 (got {value!r}).")


@attrs.frozen(kw_only=True)
class WaveletParams(GainParams):
    wavelet: str = attrs.field(default="db6", validator=_wavelet)


WaveletParams.__doc__ = params_doc(
    "Parameters of ``wavelet-sum`` and ``wavelet-variance``.",
    {"wavelet": "PyWavelets wavelet name (Pertuz: 'db6')."},
    common=("saturation_level", "normalise", "offset_adu"),
)


@attrs.frozen(kw_only=True)
class WaveletRatioParams(SaturationParams):
    wavelet: str = attrs.field(default="db6", validator=_wavelet)
    levels: int = attrs.field(default=3, validator=_levels)


WaveletRatioParams.__doc__ = params_doc(
    "Parameters of ``wavelet-ratio``.",
    {"wavelet": "PyWavelets wavelet name (Pertuz: 'db6').",
     "levels": "Decomposition levels; the ratio uses the level-1 details over the coarsest approximation."},
)


class _Wavelet(FocusMetric):
    def __init__(self, params: WaveletParams | WaveletRatioParams) -> None:
        super().__init__(params)
        self.wavelet = params.wavelet

    def _details(self, stack: NDArray[np.float64]) -> NDArray[np.float64]:
        import pywt

        _, (ch, cv, cd) = pywt.dwt2(stack, self.wavelet, mode="symmetric", axes=(-2, -1))
        return np.stack([ch, cv, cd], axis=-3)

    @abc.abstractmethod
    def _stack_scores(self, stack: NDArray[np.float64]) -> NDArray[np.float64]:
        """One raw score per frame of a float64 ``(n, y, x)`` stack."""

    def _score(self, frame: NDArray[np.generic]) -> float:
        return float(self._stack_scores(frame.astype(np.float64)[np.newaxis])[0])

    def score_batch(self, frames: NDArray[np.generic]) -> NDArray[np.float64]:
        """Transform the whole ``(n, y, x)`` stack at once (equal-shape frames)."""
        batch = as_batch(frames)
        if not isinstance(batch, np.ndarray) or self.normalised or len(batch) == 0:
            return super().score_batch(frames)
        stack = kernel_ready(batch).astype(np.float64)
        return np.asarray(self._stack_scores(stack), dtype=np.float64)


class WaveletSum(_Wavelet):
    """Mean |detail coefficient| of a one-level DWT, H + V + D (Yang 2003, WAV1). Gain 1, offset invariant.

    Pertuz 2013: the best operator with small windows, good in every condition.
    """

    name = "wavelet-sum"
    family = "wavelet"
    reference = "Pertuz WAV1 (WAVS), Yang & Nelson 2003"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def _stack_scores(self, stack: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.abs(self._details(stack)).sum(axis=1).mean(axis=(-2, -1))


class WaveletVariance(_Wavelet):
    """Sum over H, V, D of the variance of |detail coefficients| (Yang 2003, WAV2). Gain squared.

    The reference code squares only the first term (a known bug); all three are variances here.
    """

    name = "wavelet-variance"
    family = "wavelet"
    reference = "Pertuz WAV2 (WAVV), Yang & Nelson 2003"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _stack_scores(self, stack: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.abs(self._details(stack)).var(axis=(-2, -1)).sum(axis=1)


class WaveletRatio(_Wavelet):
    """Energy of the level-1 details over the energy of the coarsest approximation (Xie 2006, WAV3).

    A ratio of energies: gain invariant; an offset adds to the approximation and lowers it.
    """

    name = "wavelet-ratio"
    family = "wavelet"
    reference = "Pertuz WAV3 (WAVR), Xie 2006"
    raw_gain_exponent = 0.0
    raw_offset_invariant = False

    def __init__(self, params: WaveletRatioParams) -> None:
        super().__init__(params)
        self.levels = params.levels

    def _stack_scores(self, stack: NDArray[np.float64]) -> NDArray[np.float64]:
        import pywt

        levels = max(1, min(self.levels, pywt.dwtn_max_level(stack.shape[-2:], self.wavelet) or 1))
        coefficients = pywt.wavedec2(stack, self.wavelet, mode="symmetric", level=levels, axes=(-2, -1))
        approx = coefficients[0]
        finest = coefficients[-1]
        high = sum((c * c).sum(axis=(-2, -1)) for c in finest)
        low = (approx * approx).sum(axis=(-2, -1))
        return np.divide(high, low, out=np.zeros_like(high), where=low > 0)
