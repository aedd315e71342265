"""Synthetic puncta movies with ground truth (the seed's ``01_generate_synthetic_data``).

A sample is a movie of puncta (PIEZO1-HaloTag-like spots): each punctum is
mobile (2D Brownian motion, reflected at the image edges) or immobile, blinks
as a two-state Markov chain, and is rendered with a pixel-integrated Gaussian
or Airy PSF on a uniform background, then passed through a camera model
(Poisson, optional EMCCD gain, read noise, baseline).  A paired calcium
channel holds a fluorescence baseline F0 with transient events (instant rise,
exponential decay, Gaussian footprint) at puncta and, as background, away from
them.

:func:`simulate_sample` returns a :class:`SyntheticSample`; :func:`write_sample`
writes ``movie.tif``, ``ground_truth.csv`` and ``metadata.json`` (plus
``calcium.tif`` and ``calcium_events.csv`` when the calcium channel is on).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import tifffile
from numpy.typing import NDArray

from scopeweave.atomic import atomic_path, write_json_atomic
from scopeweave_puncta.ground_truth import CalciumEvents, GroundTruth, write_calcium_events, write_ground_truth
from scopeweave_puncta.psf_models import add_spots
from scopeweave_puncta.sim_params import BlinkingParams, CalciumSimParams, SimulationParams
from scopeweave_puncta.table import px_to_nm

__all__ = [
    "SAMPLE_FORMAT",
    "BlinkingParams",
    "CalciumSimParams",
    "SimulationParams",
    "SyntheticSample",
    "simulate_dataset",
    "simulate_sample",
    "write_sample",
]

SAMPLE_FORMAT = "scopeweave-puncta-sample/1"


@attrs.frozen(kw_only=True, eq=False)
class SyntheticSample:
    """One simulated sample.

    Attributes
    ----------
    movie
        Puncta channel, ``(t, y, x)`` uint16 camera counts.
    calcium
        Calcium channel, same shape, or ``None`` when disabled.
    truth
        Emitter ground truth (rows only for frames where a punctum emits).
    calcium_events
        True calcium events.
    puncta
        Per punctum: ``id``, ``mobile`` (bool), ``diffusion_um2_s``, ``photons_mean``.
    metadata
        What ``metadata.json`` holds.
    """

    movie: NDArray[np.uint16]
    calcium: NDArray[np.uint16] | None
    truth: GroundTruth
    calcium_events: CalciumEvents
    puncta: dict[str, NDArray[Any]]
    metadata: dict[str, Any]


def _trajectories(
    params: SimulationParams, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
    """Positions ``(n, t)`` in pixel-centre coordinates, mobility and D of each punctum."""
    height, width = params.image_size_px
    frames = params.frames_per_sample
    x = np.empty((n, frames))
    y = np.empty((n, frames))
    x[:, 0] = rng.uniform(-0.5, width - 0.5, n)
    y[:, 0] = rng.uniform(-0.5, height - 0.5, n)
    mobile = rng.random(n) < params.mobile_fraction
    diffusion = np.where(mobile, params.diffusion_um2_s * rng.lognormal(0.0, 0.3, n), 0.0)
    step_px = np.sqrt(2.0 * diffusion * 1e6 * params.frame_interval_ms * 1e-3) / params.pixel_size_nm
    for t in range(1, frames):
        x[:, t] = x[:, t - 1] + step_px * rng.standard_normal(n)
        y[:, t] = y[:, t - 1] + step_px * rng.standard_normal(n)
        for coord, size in ((x, width), (y, height)):
            low, high = -0.5, size - 0.5
            column = coord[:, t]
            column[:] = np.where(column < low, 2 * low - column, column)
            column[:] = np.where(column > high, 2 * high - column, column)
            np.clip(column, low, high, out=column)
    return x, y, mobile, diffusion


def _blinking(params: BlinkingParams, n: int, frames: int, rng: np.random.Generator) -> NDArray[np.bool_]:
    """On/off state ``(n, t)``, started in the stationary distribution."""
    total = params.p_on_per_frame + params.p_off_per_frame
    p_start = params.p_on_per_frame / total if total > 0 else 1.0
    on = np.empty((n, frames), dtype=bool)
    state = rng.random(n) < p_start
    alive = np.ones(n, dtype=bool)
    for t in range(frames):
        on[:, t] = state & alive
        draw = rng.random(n)
        alive &= ~(state & (rng.random(n) < params.bleach_per_frame))
        state = np.where(state, draw >= params.p_off_per_frame, draw < params.p_on_per_frame)
    return on


def _calcium_events(
    params: SimulationParams,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    rng: np.random.Generator,
) -> CalciumEvents:
    """Event onsets at puncta (with a refractory period) and background events away from them."""
    ca = params.calcium
    frames = params.frames_per_sample
    dt_s = params.frame_interval_ms * 1e-3
    decay_frames = ca.decay_ms / params.frame_interval_ms
    duration = max(1, math.floor(decay_frames) + 1)
    onsets: list[tuple[int, float, float, int]] = []
    p_event = 1.0 - math.exp(-ca.event_rate_hz * dt_s)
    for punctum in range(x.shape[0]):
        t = 0
        while t < frames:
            if rng.random() < p_event:
                onsets.append((t, float(x[punctum, t]), float(y[punctum, t]), punctum))
                t += duration
            else:
                t += 1
    height, width = params.image_size_px
    area_um2 = height * width * (params.pixel_size_nm * 1e-3) ** 2
    n_background = rng.poisson(ca.background_rate_hz_per_um2 * area_um2 * frames * dt_s)
    min_distance_px = ca.min_background_distance_nm / params.pixel_size_nm
    for _ in range(n_background):
        for _attempt in range(100):
            t = int(rng.integers(0, frames))
            bx, by = rng.uniform(-0.5, width - 0.5), rng.uniform(-0.5, height - 0.5)
            if x.shape[0] == 0 or np.min(np.hypot(x[:, t] - bx, y[:, t] - by)) >= min_distance_px:
                onsets.append((t, bx, by, -1))
                break
    onsets.sort()
    if not onsets:
        return CalciumEvents.empty()
    t_arr, x_arr, y_arr, pid = (np.asarray(v) for v in zip(*onsets, strict=True))
    amplitude = rng.uniform(ca.amplitude_dff_min, ca.amplitude_dff_max, len(onsets))
    return CalciumEvents(
        event_id=np.arange(len(onsets)), frame=t_arr,
        x_nm=px_to_nm(x_arr, params.pixel_size_nm), y_nm=px_to_nm(y_arr, params.pixel_size_nm),
        amplitude_dff=amplitude, duration_frames=np.full(len(onsets), duration), punctum_id=pid,
    )


def _calcium_movie(params: SimulationParams, events: CalciumEvents, rng: np.random.Generator) -> NDArray[np.uint16]:
    ca = params.calcium
    frames = params.frames_per_sample
    f0 = ca.baseline_photons
    sigma_px = ca.event_sigma_nm / params.pixel_size_nm
    decay_frames = ca.decay_ms / params.frame_interval_ms
    ex = events.x_nm / params.pixel_size_nm - 0.5
    ey = events.y_nm / params.pixel_size_nm - 0.5
    movie = np.empty((frames, *params.image_size_px), dtype=np.uint16)
    for t in range(frames):
        expected = np.full(params.image_size_px, f0)
        age = t - events.frame
        live = (age >= 0) & (age < 10 * decay_frames)
        if np.any(live):
            scale = events.amplitude_dff[live] * np.exp(-age[live] / decay_frames)
            photons = scale * f0 * 2.0 * math.pi * sigma_px**2
            add_spots(expected, x_px=ex[live], y_px=ey[live], photons=photons, sigma_px=sigma_px,
                      psf_type="gaussian")
        movie[t] = params.camera.expose(expected, rng)
    return movie


def simulate_sample(params: SimulationParams, index: int = 0) -> SyntheticSample:
    """Simulate sample ``index`` of the dataset described by ``params`` (deterministic)."""
    rng = np.random.default_rng([params.seed, index])
    frames = params.frames_per_sample
    n = int(rng.poisson(params.num_puncta_mean))
    x, y, mobile, diffusion = _trajectories(params, n, rng)
    on = _blinking(params.blinking, n, frames, rng)
    brightness = params.photons_mean * rng.lognormal(0.0, params.photons_spread, n) if n else np.zeros(0)
    sigma_px = params.psf_sigma_nm / params.pixel_size_nm
    movie = np.empty((frames, *params.image_size_px), dtype=np.uint16)
    for t in range(frames):
        expected = np.full(params.image_size_px, float(params.background_photons))
        lit = on[:, t]
        add_spots(expected, x_px=x[lit, t], y_px=y[lit, t], photons=brightness[lit], sigma_px=sigma_px,
                  psf_type=params.psf_type)
        movie[t] = params.camera.expose(expected, rng)
    punctum, frame = np.nonzero(on)
    order = np.lexsort((punctum, frame))
    punctum, frame = punctum[order], frame[order]
    truth = GroundTruth(
        frame=frame, x_nm=px_to_nm(x[punctum, frame], params.pixel_size_nm),
        y_nm=px_to_nm(y[punctum, frame], params.pixel_size_nm), photons=brightness[punctum], id=punctum,
    )
    if params.calcium.enabled:
        events = _calcium_events(params, x, y, rng)
        calcium = _calcium_movie(params, events, rng)
    else:
        events, calcium = CalciumEvents.empty(), None
    puncta = {"id": np.arange(n), "mobile": mobile, "diffusion_um2_s": diffusion, "photons_mean": brightness}
    metadata = _metadata(params, index, puncta, events)
    return SyntheticSample(movie=movie, calcium=calcium, truth=truth, calcium_events=events, puncta=puncta,
                           metadata=metadata)


def _metadata(params: SimulationParams, index: int, puncta: dict[str, NDArray[Any]],
              events: CalciumEvents) -> dict[str, Any]:
    files = {"movie": "movie.tif", "ground_truth": "ground_truth.csv"}
    if params.calcium.enabled:
        files.update(calcium="calcium.tif", calcium_events="calcium_events.csv")
    return {
        "format": SAMPLE_FORMAT,
        "sample_index": index,
        "seed": [params.seed, index],
        "n_frames": params.frames_per_sample,
        "image_size_px": list(params.image_size_px),
        "pixel_size_nm": params.pixel_size_nm,
        "frame_interval_ms": params.frame_interval_ms,
        "coordinates": "x_nm, y_nm from the top-left image corner; pixel (0, 0) centre at half a pixel; frames 0-based",
        "psf": {"type": params.psf_type, "sigma_nm": params.psf_sigma_nm},
        "photons_mean": params.photons_mean,
        "background_photons": params.background_photons,
        "camera": params.camera.as_dict(),
        "blinking": attrs.asdict(params.blinking),
        "calcium": {**attrs.asdict(params.calcium), "n_events": len(events),
                    "n_events_at_puncta": int(np.sum(events.punctum_id >= 0))},
        "puncta": [
            {"id": int(i), "mobile": bool(m), "diffusion_um2_s": float(d), "photons_mean": float(p)}
            for i, m, d, p in zip(puncta["id"], puncta["mobile"], puncta["diffusion_um2_s"],
                                  puncta["photons_mean"], strict=True)
        ],
        "files": files,
    }


def _write_tiff(path: Path, movie: NDArray[np.uint16], pixel_size_nm: float) -> None:
    per_um = 1000.0 / pixel_size_nm
    with atomic_path(path) as tmp:
        tifffile.imwrite(tmp, movie, photometric="minisblack", metadata={"axes": "TYX"}, resolution=(per_um, per_um))


def write_sample(sample: SyntheticSample, directory: str | os.PathLike[str]) -> Path:
    """Write one sample's files into ``directory`` (created) and return it."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    pixel_size_nm = float(sample.metadata["pixel_size_nm"])
    _write_tiff(folder / "movie.tif", sample.movie, pixel_size_nm)
    write_ground_truth(sample.truth, folder / "ground_truth.csv")
    if sample.calcium is not None:
        _write_tiff(folder / "calcium.tif", sample.calcium, pixel_size_nm)
        write_calcium_events(sample.calcium_events, folder / "calcium_events.csv")
    write_json_atomic(folder / "metadata.json", sample.metadata)
    return folder


def simulate_dataset(
    params: SimulationParams,
    directory: str | os.PathLike[str],
    *,
    on_sample: Callable[[int, Path], None] | None = None,
) -> list[Path]:
    """Simulate and write ``params.num_samples`` samples as ``sample_00000/`` ... under ``directory``."""
    folders = []
    for index in range(params.num_samples):
        folder = write_sample(simulate_sample(params, index), Path(directory) / f"sample_{index:05d}")
        folders.append(folder)
        if on_sample is not None:
            on_sample(index, folder)
    return folders
