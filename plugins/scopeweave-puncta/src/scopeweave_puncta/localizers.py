"""The ``gauss-mle`` and ``gauss-lsq`` localizers: detect, cut boxes, fit an integrated Gaussian.

Pipeline per chunk of frames: camera counts -> photons
(:class:`~scopeweave_puncta.camera_model.CameraModel`), candidate detection
(:mod:`~scopeweave_puncta.detect`), one ``(2 r + 1)``-pixel box per candidate
(shifted to stay inside the image), then either

``mle``
    the Poisson maximum-likelihood fit of :func:`scopeweave_psf.fit_spots`
    (symmetric sigma, or sigma held at the PSF width); uncertainty = the
    Cramér-Rao bound of the fit;
``lsq``
    the weighted least-squares fit of :mod:`~scopeweave_puncta.lsq_fit`;
    uncertainty = the least-squares precision of Mortensen et al. (2010).

On an EMCCD (``em_gain > 1``) both uncertainties are multiplied by sqrt 2
(excess-noise factor).  Fits that fail (not converged, centre outside the box,
width or photons implausible) are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_puncta.camera_model import CameraModel
from scopeweave_puncta.detect import DetectionParams, detect_frame
from scopeweave_puncta.precision import mortensen_lsq_std
from scopeweave_puncta.table import LocalizationTable, px_to_nm

__all__ = ["FitMethod", "GaussFitLocalizer", "GaussFitParams"]

FitMethod = Literal["mle", "lsq"]


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def _at_least(minimum: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be >= {minimum} (got {value!r}).")

    return check


@attrs.frozen(kw_only=True)
class GaussFitParams:
    """Parameters of ``gauss-mle`` and ``gauss-lsq``.

    Attributes
    ----------
    psf_sigma_nm
        Expected PSF width: the fits' starting (or, with ``fit_sigma = false``, fixed) sigma.
    fit_radius_px
        Box half-size: boxes are ``2 r + 1`` pixels wide (ThunderSTORM: 3).
    fit_sigma
        Fit the PSF width (true) or hold it at ``psf_sigma_nm`` (faster; MLE only).
    min_photons
        Localizations with fewer fitted photons are dropped.
    sigma_range
        Accepted fitted sigma, as ``[low, high]`` multiples of ``psf_sigma_nm``.
    max_iterations
        Iteration cap of each fit.
    chunk_frames
        Frames converted and detected at a time (bounds memory on long movies).
    n_threads
        numba threads for the fits (1: single core; 0: numba's default).
    detection
        Candidate detection (filter, threshold).
    camera
        Camera counts to photons (baseline, gain, EM gain, read noise).
    """

    psf_sigma_nm: float = attrs.field(default=130.0, validator=_positive)
    fit_radius_px: int = attrs.field(default=3, validator=_at_least(2))
    fit_sigma: bool = True
    min_photons: float = attrs.field(default=50.0)
    sigma_range: tuple[float, float] = attrs.field(default=(0.5, 2.0), converter=lambda v: (float(v[0]), float(v[1])))
    max_iterations: int = attrs.field(default=30, validator=_at_least(1))
    chunk_frames: int = attrs.field(default=200, validator=_at_least(1))
    n_threads: int = attrs.field(default=1, validator=_at_least(0))
    detection: DetectionParams = attrs.field(factory=DetectionParams)
    camera: CameraModel = attrs.field(factory=CameraModel)

    @sigma_range.validator
    def _check_range(self, attribute: attrs.Attribute[tuple[float, float]], value: tuple[float, float]) -> None:
        if not 0 < value[0] < 1 < value[1]:
            raise ValueError(f"'sigma_range' must be [low, high] with 0 < low < 1 < high (got {list(value)}).")


def _boxes(frames: NDArray[np.float64], frame_index: NDArray[np.intp], rows: NDArray[np.intp],
           cols: NDArray[np.intp], size: int) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]:
    """Cut ``size`` boxes centred on the candidates, shifted to stay inside the frames."""
    _, height, width = frames.shape
    half = size // 2
    y0 = np.clip(rows - half, 0, height - size)
    x0 = np.clip(cols - half, 0, width - size)
    offsets = np.arange(size)
    boxes = frames[frame_index[:, None, None], (y0[:, None] + offsets)[:, :, None], (x0[:, None] + offsets)[:, None, :]]
    return boxes, y0, x0


class GaussFitLocalizer:
    """Detection plus integrated-Gaussian fits (``method``: ``"mle"`` or ``"lsq"``)."""

    def __init__(self, params: GaussFitParams, *, method: FitMethod) -> None:
        if method not in ("mle", "lsq"):
            raise ValueError(f"method must be 'mle' or 'lsq' (got {method!r}).")
        self.params = params
        self.method: FitMethod = method

    def with_camera(self, camera: CameraModel) -> GaussFitLocalizer:
        """The same localizer for another camera (e.g. the one in a sample's metadata)."""
        return GaussFitLocalizer(attrs.evolve(self.params, camera=camera), method=self.method)

    def localize(self, movie: NDArray[np.generic], *, pixel_size_nm: float) -> Mapping[str, NDArray[np.generic]]:
        """Localize every frame (the :class:`~scopeweave.kinds.Localizer` protocol)."""
        return self.localize_table(movie, pixel_size_nm=pixel_size_nm).columns()

    def localize_table(self, movie: NDArray[np.generic], *, pixel_size_nm: float) -> LocalizationTable:
        """Localize every frame of a ``(t, y, x)`` (or single ``(y, x)``) movie of camera counts."""
        if not pixel_size_nm > 0:
            raise ValueError(f"pixel_size_nm must be > 0 (got {pixel_size_nm!r}).")
        stack = np.asarray(movie)
        if stack.ndim == 2:
            stack = stack[None]
        if stack.ndim != 3:
            raise ValueError(f"movie must be (t, y, x) or (y, x) (got shape {stack.shape}).")
        size = 2 * self.params.fit_radius_px + 1
        if min(stack.shape[1:]) < size:
            raise ValueError(f"frames of {stack.shape[1:]} px are smaller than the {size}-px fit box.")
        tables = []
        for start in range(0, stack.shape[0], self.params.chunk_frames):
            chunk = self.params.camera.to_photons(stack[start : start + self.params.chunk_frames])
            tables.append(self._localize_chunk(chunk, pixel_size_nm).shift_frames(start))
        return LocalizationTable.concat(tables)

    def _localize_chunk(self, frames: NDArray[np.float64], pixel_size_nm: float) -> LocalizationTable:
        p = self.params
        found = [detect_frame(frame, p.detection) for frame in frames]
        frame_index = np.concatenate([np.full(len(r), t, dtype=np.intp) for t, (r, _) in enumerate(found)])
        if frame_index.size == 0:
            return LocalizationTable.empty()
        rows = np.concatenate([r for r, _ in found])
        cols = np.concatenate([c for _, c in found])
        size = 2 * p.fit_radius_px + 1
        boxes, y0, x0 = _boxes(frames, frame_index, rows, cols, size)
        sigma0 = p.psf_sigma_nm / pixel_size_nm
        x, y, sigma, photons, background, std_px, ok = self._fit(boxes, sigma0)
        inside = (x >= -0.5) & (x <= size - 0.5) & (y >= -0.5) & (y <= size - 0.5)
        plausible = (photons >= p.min_photons) & (sigma >= p.sigma_range[0] * sigma0) & (
            sigma <= p.sigma_range[1] * sigma0)
        keep = ok & inside & plausible & np.isfinite(std_px)
        return LocalizationTable(
            frame=frame_index[keep],
            x_nm=px_to_nm(x[keep] + x0[keep], pixel_size_nm),
            y_nm=px_to_nm(y[keep] + y0[keep], pixel_size_nm),
            photons=photons[keep],
            background=background[keep],
            sigma_nm=sigma[keep] * pixel_size_nm,
            uncertainty_nm=std_px[keep] * pixel_size_nm,
        )

    def _fit(self, boxes: NDArray[np.float64], sigma0: float) -> tuple[NDArray[Any], ...]:
        """Fit the boxes: x, y, sigma (px), photons, background, uncertainty (px) and a success mask."""
        p = self.params
        variance = p.camera.read_noise_photons**2 if p.camera.em_gain == 1.0 else 0.0
        excess = np.sqrt(p.camera.excess_noise_factor)
        if self.method == "lsq":
            from scopeweave_puncta.lsq_fit import fit_lsq_batch

            fitted, _, iterations = fit_lsq_batch(boxes, sigma0_px=sigma0, readout_variance=variance,
                                                  max_iterations=p.max_iterations)
            x, y, sigma, photons, background = fitted.T
            std = excess * mortensen_lsq_std(sigma, 1.0, photons, np.maximum(background, 0.0))
            return x, y, sigma, photons, background, std, iterations > 0
        from scopeweave_psf import fit_spots

        result = fit_spots(
            boxes, mode="symmetric" if p.fit_sigma else "fixed_sigma", sigma_px=None if p.fit_sigma else sigma0,
            readout_variance=variance, max_iterations=p.max_iterations,
            n_threads=p.n_threads if p.n_threads > 0 else None,
        )
        x, y, sigma, _, _, photons, background = result.params.T
        std = excess * np.sqrt(0.5 * (result.crlb[:, 0] ** 2 + result.crlb[:, 1] ** 2))
        return x, y, sigma, photons, background, std, result.converged
