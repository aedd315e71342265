"""Spectral and perceptual metrics outside Pertuz: CellProfiler's power log-log slope,
Micro-Manager's FFT band-pass power and scikit-image's blur effect."""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from scopeweave_focusmetrics.metrics.base import FocusMetric, SaturationParams, params_doc

__all__ = ["BandParams", "BlurEffect", "BlurEffectParams", "FftBandpass", "PowerLogLogSlope", "radial_power"]


def radial_power(frame: NDArray[np.generic]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Radii 2 .. min(shape)/8 and the total power at each (CellProfiler / centrosome ``rps``).

    The frame is centred and divided by its median absolute deviation from the mean first, so
    the spectrum ignores gain and offset.
    """
    image = frame.astype(np.float64)
    h, w = image.shape
    y2 = np.minimum(np.arange(h), h - np.arange(h)) ** 2
    x2 = np.minimum(np.arange(w), w - np.arange(w)) ** 2
    radii = np.floor(np.sqrt(y2[:, None] + x2[None, :])).astype(np.int64) + 1
    centred = image - image.mean()
    spread = float(np.median(np.abs(centred)))
    if spread > 0:
        centred /= spread
    power = np.abs(np.fft.fft2(centred)) ** 2
    labels = np.arange(2, int(np.floor(min(h, w) / 8.0)))
    if labels.size == 0:
        return labels.astype(np.float64), np.zeros(0)
    sums = ndimage.sum_labels(power, radii, labels)
    return labels.astype(np.float64), np.asarray(sums, dtype=np.float64)


class PowerLogLogSlope(FocusMetric):
    """Slope of log(radial power) against log(radius) (CellProfiler MeasureImageQuality, Field 1997).

    Blur steepens the spectrum, so a less negative slope is sharper. Gain and offset invariant.
    CellProfiler recommends it for blur detection "in most cases". Needs frames of at least 24 px;
    a flat frame scores the steepest possible value it can report, -inf being replaced by 0 power -> 0.0.
    """

    name = "power-log-log-slope"
    family = "spectral"
    reference = "CellProfiler PowerLogLogSlope (centrosome rps)"
    raw_gain_exponent = 0.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        radii, power = radial_power(frame)
        valid = power > 0
        if np.count_nonzero(valid) < 2:
            return 0.0
        slope = np.polyfit(np.log(radii[valid]), np.log(power[valid]), 1)[0]
        return float(slope)


def _band(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 < value < 0.5:
        raise ValueError(f"'{attribute.name}' must be between 0 and 0.5 cycles/px (got {value!r}).")


@attrs.frozen(kw_only=True)
class BandParams(SaturationParams):
    low_cycles_per_px: float = attrs.field(default=0.025, validator=_band)
    high_cycles_per_px: float = attrs.field(default=0.14, validator=_band)

    def __attrs_post_init__(self) -> None:
        if not self.low_cycles_per_px < self.high_cycles_per_px:
            raise ValueError(f"'low_cycles_per_px' ({self.low_cycles_per_px}) must be below "
                             f"'high_cycles_per_px' ({self.high_cycles_per_px}).")


BandParams.__doc__ = params_doc(
    "Parameters of ``fft-bandpass``.",
    {"low_cycles_per_px": "Lower edge of the radial band (Micro-Manager OughtaFocus default 2.5%).",
     "high_cycles_per_px": "Upper edge of the radial band (Micro-Manager default 14%)."},
)


class FftBandpass(FocusMetric):
    """Fraction of the non-DC power inside a radial frequency band (Micro-Manager OughtaFocus FFTBandpass).

    Divided by the total AC power, so gain and offset invariant.
    """

    name = "fft-bandpass"
    family = "spectral"
    reference = "Micro-Manager OughtaFocus FFTBandpass"
    raw_gain_exponent = 0.0
    raw_offset_invariant = True

    def __init__(self, params: BandParams) -> None:
        super().__init__(params)
        self.band = (params.low_cycles_per_px, params.high_cycles_per_px)

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        power = np.abs(np.fft.rfft2(image - image.mean())) ** 2
        fy = np.fft.fftfreq(image.shape[0])[:, None]
        fx = np.fft.rfftfreq(image.shape[1])[None, :]
        radius = np.sqrt(fy * fy + fx * fx)
        total = float(power.sum())
        if not total > 0:
            return 0.0
        inside = (radius >= self.band[0]) & (radius <= self.band[1])
        return float(power[inside].sum()) / total


def _h_size(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 3 <= value <= 101:
        raise ValueError(f"'{attribute.name}' must be between 3 and 101 px (got {value!r}).")


@attrs.frozen(kw_only=True)
class BlurEffectParams(SaturationParams):
    h_size: int = attrs.field(default=11, validator=_h_size)


BlurEffectParams.__doc__ = params_doc(
    "Parameters of ``blur-effect``.",
    {"h_size": "Size of the re-blurring filter (scikit-image default 11)."},
)


class BlurEffect(FocusMetric):
    """scikit-image's no-reference blur effect (Crete 2007): 0 sharp .. 1 blurred; lower is sharper.

    A ratio of gradient sums: gain and offset invariant. A flat frame scores 1 (skimage PR #7643).
    """

    name = "blur-effect"
    family = "perceptual"
    reference = "skimage.measure.blur_effect, Crete et al. 2007"
    higher_is_sharper = False
    raw_gain_exponent = 0.0
    raw_offset_invariant = True

    def __init__(self, params: BlurEffectParams) -> None:
        super().__init__(params)
        self.h_size = params.h_size

    def _score(self, frame: NDArray[np.generic]) -> float:
        from skimage.measure import blur_effect

        image = frame.astype(np.float64)
        if not float(image.max()) > float(image.min()):
            return 1.0
        return float(blur_effect(image, h_size=self.h_size))
