"""Training samples: simulated on the fly by part 1's generator, or cut from ThunderSTORM-labelled movies.

A sample is one input window (``context_frames`` frames, one or two
channels) and the targets of its centre frame: emitter positions and photons,
the background, and the calcium label map (1 within
``calcium_label_radius_px`` of an active calcium event at a punctum).

Simulated samples draw their conditions (density, brightness, background,
PSF width, calcium activity) from the current curriculum level and run
:func:`scopeweave_puncta.simulate.simulate_sample` on a small movie whose
last ``context_frames`` frames are kept, so that calcium events that began
before the window are present at every stage of their decay.  Sample ``i``
of stream ``s`` is a pure function of ``(seed, s, i)``: training is
reproducible and resumable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError
from scopeweave_puncta.camera_model import CameraModel
from scopeweave_puncta.deep.movies import open_movie
from scopeweave_puncta.deep.params import ModelConfig, SyntheticLevel, ThunderstormSource, TrainingSimulation
from scopeweave_puncta.deep.preprocess import calcium_dff, calcium_f0, context_indices, f0_frame_indices, puncta_input
from scopeweave_puncta.localization_io import read_localizations
from scopeweave_puncta.sim_params import SimulationParams
from scopeweave_puncta.simulate import simulate_sample
from scopeweave_puncta.table import nm_to_px

__all__ = ["STREAM_TRAIN", "STREAM_VALIDATION", "SyntheticSampler", "ThunderstormSampler", "TrainingSample",
           "calcium_label_map"]

#: Sample streams: training and validation samples never share a simulation seed.
STREAM_TRAIN = 0
STREAM_VALIDATION = 1
_STREAM_STRIDE = 1 << 40


@attrs.frozen(kw_only=True, eq=False)
class TrainingSample:
    """One training window and the targets of its centre frame.

    Attributes
    ----------
    inputs
        ``(channels, context_frames, y, x)`` network input.
    positions_px
        ``(m, 2)`` x, y of the centre frame's emitters, pixel-centre coordinates.
    photons
        ``(m,)`` their photons.
    background
        ``(y, x)`` background photons per pixel, or ``None`` when unknown.
    calcium
        ``(y, x)`` calcium label (0/1), or ``None`` when unknown.
    """

    inputs: NDArray[np.float32]
    positions_px: NDArray[np.float64]
    photons: NDArray[np.float64]
    background: NDArray[np.float32] | None
    calcium: NDArray[np.float32] | None


def calcium_label_map(shape: tuple[int, int], x_px: NDArray[np.float64], y_px: NDArray[np.float64],
                      radius_px: float) -> NDArray[np.float32]:
    """1 within ``radius_px`` of any of the points ``(x_px, y_px)``, else 0."""
    label = np.zeros(shape, dtype=np.float32)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    for x, y in zip(x_px, y_px, strict=True):
        label[(xx - x) ** 2 + (yy - y) ** 2 <= radius_px**2] = 1.0
    return label


def _log_uniform(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return float(math.exp(rng.uniform(math.log(low), math.log(high)))) if high > low else float(low)


class SyntheticSampler:
    """Simulated training windows for a curriculum."""

    def __init__(self, *, simulation: TrainingSimulation, curriculum: Sequence[SyntheticLevel], model: ModelConfig,
                 crop_px: int, seed: int, label_photon_min: float) -> None:
        self.simulation = simulation
        self.curriculum = tuple(curriculum)
        self.model = model
        self.crop_px = crop_px
        self.seed = seed
        self.label_photon_min = label_photon_min
        ca = simulation.calcium
        self.warmup_frames = (math.floor(ca.decay_ms / simulation.frame_interval_ms) + 1) if model.has_calcium else 0

    def level_at(self, step: int) -> SyntheticLevel:
        """The curriculum level in force at global ``step``."""
        return [level for level in self.curriculum if level.start_step <= step][-1]

    def simulation_params(self, level: SyntheticLevel, rng: np.random.Generator, *, size_px: int) -> SimulationParams:
        """Conditions of one sample drawn from ``level``."""
        sim = self.simulation
        area_um2 = (size_px * sim.pixel_size_nm * 1e-3) ** 2
        calcium = attrs.evolve(
            sim.calcium, enabled=self.model.has_calcium,
            event_rate_hz=float(rng.uniform(*level.calcium_event_rate_hz)),
            amplitude_dff_min=level.calcium_amplitude_dff[0], amplitude_dff_max=level.calcium_amplitude_dff[1],
        )
        return SimulationParams(
            num_samples=1, frames_per_sample=self.model.context_frames + self.warmup_frames,
            image_size_px=(size_px, size_px), num_puncta_mean=float(rng.uniform(*level.density_per_um2)) * area_um2,
            psf_type=sim.psf_type, seed=self.seed, pixel_size_nm=sim.pixel_size_nm,
            frame_interval_ms=sim.frame_interval_ms, psf_sigma_nm=float(rng.uniform(*level.psf_sigma_nm)),
            photons_mean=_log_uniform(rng, level.photons_mean), photons_spread=sim.photons_spread,
            background_photons=_log_uniform(rng, level.background_photons), mobile_fraction=sim.mobile_fraction,
            diffusion_um2_s=sim.diffusion_um2_s, blinking=sim.blinking, camera=sim.camera, calcium=calcium,
        )

    def sample(self, level: SyntheticLevel, index: int, *, stream: int = STREAM_TRAIN,
               size_px: int | None = None) -> TrainingSample:
        """Sample ``index`` of ``stream`` under ``level`` (deterministic)."""
        size = self.crop_px if size_px is None else size_px
        global_index = stream * _STREAM_STRIDE + index
        rng = np.random.default_rng([self.seed, 7, global_index])
        params = self.simulation_params(level, rng, size_px=size)
        sim = simulate_sample(params, global_index)
        n_frames = params.frames_per_sample
        context = self.model.context_frames
        window = np.arange(n_frames - context, n_frames)
        centre = int(window[context // 2])
        camera = params.camera
        channels = [puncta_input(camera.to_photons(sim.movie[window]), self.model.input_scale_photons)]
        calcium_label = None
        if self.model.has_calcium:
            assert sim.calcium is not None
            channels.append(calcium_dff(camera.to_photons(sim.calcium[window]), params.calcium.baseline_photons))
            ev = sim.calcium_events
            active = (ev.punctum_id >= 0) & (ev.frame <= centre) & (centre < ev.frame + ev.duration_frames)
            calcium_label = calcium_label_map(
                (size, size), nm_to_px(ev.x_nm[active], params.pixel_size_nm),
                nm_to_px(ev.y_nm[active], params.pixel_size_nm), self.simulation.calcium_label_radius_px)
        truth = sim.truth
        rows = (truth.frame == centre) & (truth.photons >= self.label_photon_min)
        return TrainingSample(
            inputs=np.stack(channels).astype(np.float32),
            positions_px=np.column_stack([nm_to_px(truth.x_nm[rows], params.pixel_size_nm),
                                          nm_to_px(truth.y_nm[rows], params.pixel_size_nm)]),
            photons=truth.photons[rows],
            background=np.full((size, size), params.background_photons, dtype=np.float32),
            calcium=calcium_label,
        )


@attrs.frozen(kw_only=True, eq=False)
class _RealMovie:
    camera: CameraModel
    puncta: NDArray[Any]
    calcium: NDArray[Any] | None
    f0: NDArray[np.float64] | None
    frame: NDArray[np.int64]
    x_px: NDArray[np.float64]
    y_px: NDArray[np.float64]
    photons: NDArray[np.float64]
    background: NDArray[np.float64]


class ThunderstormSampler:
    """Random windows of real movies labelled by ThunderSTORM localizations (pseudo ground truth).

    The background target is the median fitted background of the centre
    frame's localizations (unknown, so not trained, when there is none); the
    calcium label is unknown (the calcium loss skips these samples).
    """

    def __init__(self, *, sources: Sequence[ThunderstormSource], model: ModelConfig, crop_px: int, seed: int,
                 label_photon_min: float) -> None:
        self.model = model
        self.crop_px = crop_px
        self.seed = seed
        self.label_photon_min = label_photon_min
        self.movies = [self._load(source) for source in sources]
        frames = np.array([m.puncta.shape[0] for m in self.movies], dtype=np.float64)
        self.weights = frames / frames.sum()

    def _load(self, source: ThunderstormSource) -> _RealMovie:
        puncta = open_movie(source.movie)
        if puncta.ndim != 3:
            raise ScopeweaveError(f"{source.movie}: expected a (t, y, x) puncta movie, got shape {puncta.shape}.")
        if min(puncta.shape[1:]) < self.crop_px:
            raise ScopeweaveError(f"{source.movie}: frames {puncta.shape[1:]} are smaller than crop_px = {self.crop_px}.")
        calcium, f0 = None, None
        if self.model.has_calcium:
            assert source.calcium_movie is not None
            calcium = open_movie(source.calcium_movie)
            if calcium.shape != puncta.shape:
                raise ScopeweaveError(f"{source.calcium_movie}: shape {calcium.shape} differs from the puncta movie "
                                      f"{source.movie} ({puncta.shape}).")
            f0 = calcium_f0(source.camera.to_photons(calcium[f0_frame_indices(calcium.shape[0])]))
        table = read_localizations(source.localizations, pixel_size_nm=source.pixel_size_nm)
        if len(table) and table.frame.max() >= puncta.shape[0]:
            raise ScopeweaveError(f"{source.localizations}: frame {int(table.frame.max())} is beyond the "
                                  f"{puncta.shape[0]} frames of {source.movie}.")
        x, y = table.xy_px(source.pixel_size_nm)
        keep = np.isfinite(table.photons) & (table.photons >= self.label_photon_min)
        return _RealMovie(camera=source.camera, puncta=puncta, calcium=calcium, f0=f0, frame=table.frame[keep],
                          x_px=x[keep], y_px=y[keep], photons=table.photons[keep],
                          background=table.background[keep])

    def sample(self, index: int) -> TrainingSample:
        """Random window ``index`` (deterministic)."""
        rng = np.random.default_rng([self.seed, 11, index])
        movie = self.movies[int(rng.choice(len(self.movies), p=self.weights))]
        n_frames, height, width = movie.puncta.shape
        centre = int(rng.integers(0, n_frames))
        y0 = int(rng.integers(0, height - self.crop_px + 1))
        x0 = int(rng.integers(0, width - self.crop_px + 1))
        window = context_indices(np.array([centre]), n_frames, self.model.context_frames)[0]
        crop = (slice(y0, y0 + self.crop_px), slice(x0, x0 + self.crop_px))
        frames = movie.camera.to_photons(np.asarray(movie.puncta[window][:, crop[0], crop[1]]))
        channels = [puncta_input(frames, self.model.input_scale_photons)]
        if movie.calcium is not None and movie.f0 is not None:
            ca = movie.camera.to_photons(np.asarray(movie.calcium[window][:, crop[0], crop[1]]))
            channels.append(calcium_dff(ca, movie.f0[crop]))
        rows = (movie.frame == centre) & (movie.x_px >= x0 - 0.5) & (movie.x_px < x0 + self.crop_px - 0.5) & (
            movie.y_px >= y0 - 0.5) & (movie.y_px < y0 + self.crop_px - 0.5)
        backgrounds = movie.background[rows]
        backgrounds = backgrounds[np.isfinite(backgrounds)]
        background = (np.full((self.crop_px, self.crop_px), float(np.median(backgrounds)), dtype=np.float32)
                      if backgrounds.size else None)
        return TrainingSample(
            inputs=np.stack(channels).astype(np.float32),
            positions_px=np.column_stack([movie.x_px[rows] - x0, movie.y_px[rows] - y0]),
            photons=movie.photons[rows], background=background, calcium=None,
        )
