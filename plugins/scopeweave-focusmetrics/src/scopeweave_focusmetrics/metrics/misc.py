"""Miscellaneous family (Pertuz MIS1-MIS9) and Vollath F5, vectorised numpy / scipy."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from scopeweave_focusmetrics.metrics.base import FocusMetric
from scopeweave_focusmetrics.metrics.gradient import GaussianDerivativeParams, gaussian_gradient
from scopeweave_focusmetrics.metrics.statistics import WindowParams

__all__ = [
    "AbsoluteCentralMoment",
    "Brenner",
    "HelmliMean",
    "ImageContrast",
    "ImageCurvature",
    "SpatialFrequency",
    "SteerableFilters",
    "VollathF4",
    "VollathF5",
]


class AbsoluteCentralMoment(FocusMetric):
    """Mean absolute deviation from the mean grey level (Shirvaikar 2004, MIS1). Gain 1, offset invariant.

    Computed exactly from the pixels rather than from a 256-bin histogram.
    """

    name = "absolute-central-moment"
    family = "miscellaneous"
    reference = "Pertuz MIS1 (ACMO), Shirvaikar 2004"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        return float(np.mean(np.abs(image - image.mean())))


class Brenner(FocusMetric):
    """Mean of max(Dh, Dv)**2 with 2-pixel differences Dh = I(y, x+2) - I(y, x), Dv likewise (Santos 1997, MIS2).

    Gain squared, offset invariant. (The reference code takes second-order differences by mistake.)
    """

    name = "brenner"
    family = "miscellaneous"
    reference = "Pertuz MIS2 (BREN), Santos 1997"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        dh = np.abs(image[:-2, 2:] - image[:-2, :-2])
        dv = np.abs(image[2:, :-2] - image[:-2, :-2])
        biggest = np.maximum(dh, dv)
        return float(np.mean(biggest * biggest))


class ImageContrast(FocusMetric):
    """Mean over pixels of the summed |difference| to the 8 neighbours (Nanda 2001, MIS3). Gain 1."""

    name = "image-contrast"
    family = "miscellaneous"
    reference = "Pertuz MIS3 (CONT), Nanda 2001"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        centre = image[1:-1, 1:-1]
        h, w = image.shape
        total = np.zeros_like(centre)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dy or dx:
                    total += np.abs(image[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] - centre)
        return float(total.mean())


_M1 = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=np.float64)
_M2 = np.array([[1, 0, 1], [1, 0, 1], [1, 0, 1]], dtype=np.float64)


class ImageCurvature(FocusMetric):
    """Mean |curvature coefficients| of a local quadratic surface fit (Helmli 2001, MIS4). Gain 1.

    Coefficients P0..P3 from 3x3 kernels; P3 uses the transposed kernel (the reference reuses M2, a bug).
    P2 and P3 come from kernels that do not sum to zero, so an offset changes the score.
    """

    name = "image-curvature"
    family = "miscellaneous"
    reference = "Pertuz MIS4 (CURV), Helmli & Scherer 2001"
    raw_gain_exponent = 1.0
    raw_offset_invariant = False

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)

        def conv(kernel: NDArray[np.float64]) -> NDArray[np.float64]:
            return ndimage.convolve(image, kernel, mode="nearest")

        p0 = conv(_M1) / 6
        p1 = conv(_M1.T) / 6
        m2, m2t = conv(_M2), conv(_M2.T)
        p2 = 3 * m2 / 10 - m2t / 5
        p3 = -m2 / 5 + 3 * m2t / 10
        return float(np.mean(np.abs(p0) + np.abs(p1) + np.abs(p2) + np.abs(p3)))


class HelmliMean(FocusMetric):
    """Mean of the local-mean / pixel ratio, taken >= 1 both ways (Helmli & Scherer 2001, MIS5).

    A ratio of intensities: gain invariant, offset sensitive. Pixels at 0 count as ratio 1.
    """

    name = "helmli-mean"
    family = "miscellaneous"
    reference = "Pertuz MIS5 (HELM), Helmli & Scherer 2001"
    raw_gain_exponent = 0.0
    raw_offset_invariant = False

    def __init__(self, params: WindowParams) -> None:
        super().__init__(params)
        self.window_px = params.window_px

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        mean = ndimage.uniform_filter(image, self.window_px, mode="nearest")
        ratio = np.ones_like(image)
        positive = (image > 0) & (mean > 0)
        ratio[positive] = mean[positive] / image[positive]
        above = positive & (mean <= image)
        ratio[above] = 1.0 / ratio[above]
        return float(ratio.mean())


class SteerableFilters(FocusMetric):
    """Mean over pixels of the largest of 8 steered Gaussian-derivative responses (Minhas 2009, MIS7). Gain 1.

    Angles 0, 45, ..., 315 degrees (the reference loses 270 degrees to a typo; all 8 are used here).
    """

    name = "steerable-filters"
    family = "miscellaneous"
    reference = "Pertuz MIS7 (SFIL), Minhas 2009"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def __init__(self, params: GaussianDerivativeParams) -> None:
        super().__init__(params)
        self.sigma_px = params.sigma_px

    def _score(self, frame: NDArray[np.generic]) -> float:
        rx, ry = gaussian_gradient(frame, self.sigma_px)
        angles = np.deg2rad(np.arange(0, 360, 45))
        best = np.full(rx.shape, -np.inf)
        for angle in angles:
            np.maximum(best, np.cos(angle) * rx + np.sin(angle) * ry, out=best)
        return float(best.mean())


class SpatialFrequency(FocusMetric):
    """sqrt(RF**2 + CF**2), RF / CF the RMS row / column first differences (Eskicioglu 1995, MIS8). Gain 1."""

    name = "spatial-frequency"
    family = "miscellaneous"
    reference = "Pertuz MIS8 (SFRQ), Eskicioglu & Fisher 1995"
    raw_gain_exponent = 1.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        row = np.mean(np.diff(image, axis=1) ** 2)
        col = np.mean(np.diff(image, axis=0) ** 2)
        return float(np.sqrt(row + col))


def _vollath_terms(image: NDArray[np.float64]) -> tuple[float, float, float]:
    """Mean of I(x)I(x+1), of I(x)I(x+2) (over x and over y, averaged) and the squared mean."""
    one = 0.5 * (np.mean(image[:, :-1] * image[:, 1:]) + np.mean(image[:-1, :] * image[1:, :]))
    two = 0.5 * (np.mean(image[:, :-2] * image[:, 2:]) + np.mean(image[:-2, :] * image[2:, :]))
    return float(one), float(two), float(image.mean()) ** 2


class VollathF4(FocusMetric):
    """Autocorrelation at lag 1 minus lag 2, averaged over x and y (Vollath 1987, MIS9). Gain squared.

    Offsets cancel up to edge terms; the values are computed about the frame mean so they cancel exactly.
    """

    name = "vollath-f4"
    family = "miscellaneous"
    reference = "Pertuz MIS9 (VOLA), Vollath 1987; Micro-Manager 'Volath'"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        image -= image.mean()
        one, two, _ = _vollath_terms(image)
        return one - two


class VollathF5(FocusMetric):
    """Autocorrelation at lag 1 minus the squared mean (Vollath 1988, 'F5'): robust to white noise. Gain squared.

    Computed about the frame mean, so an offset does not change it.
    """

    name = "vollath-f5"
    family = "miscellaneous"
    reference = "Vollath 1988 (F5); Micro-Manager 'Volath5'"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        image = frame.astype(np.float64)
        image -= image.mean()
        one, _, mean2 = _vollath_terms(image)
        return one - mean2

