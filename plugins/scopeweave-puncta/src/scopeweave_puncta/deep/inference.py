"""Running trained hybrid U-Nets on movies: batched, chunked, ensembles, CPU or CUDA.

:class:`Predictor` loads one or more checkpoints.  With several, each model's
outputs are converted to physical units and averaged (the seed's ensemble
strategy); the x, y and photon uncertainties combine the members' own
variances and their spread: ``sigma^2 = mean(sigma_i^2) + var(mu_i)``.
:meth:`Predictor.analyze` reads a movie chunk by chunk (with the context
frames around each chunk), runs the network in batches and returns the
localizations and the calcium events of the whole movie.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError
from scopeweave_puncta.calcium import track_positions_px
from scopeweave_puncta.camera_model import CameraModel
from scopeweave_puncta.deep.checkpoint import LoadedModel, load_model
from scopeweave_puncta.deep.model import HybridOutput
from scopeweave_puncta.deep.params import ModelConfig, PredictionParams
from scopeweave_puncta.deep.postprocess import CalciumEventBuilder, OutputMaps, localizations_from_maps
from scopeweave_puncta.deep.preprocess import calcium_dff, calcium_f0, context_indices, f0_frame_indices, puncta_input
from scopeweave_puncta.ground_truth import CalciumEvents
from scopeweave_puncta.table import LocalizationTable, nm_to_px
from scopeweave_puncta.tracking import Tracks

__all__ = ["Analysis", "Predictor", "assign_events_to_tracks", "average_maps", "physical_maps", "resolve_device"]


def resolve_device(name: str) -> torch.device:
    """``auto`` is CUDA when available, else the CPU; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ScopeweaveError("device = 'cuda' was asked for, but PyTorch sees no CUDA device (use 'auto' or 'cpu').")
    return torch.device(name)


@attrs.frozen(kw_only=True, eq=False)
class Analysis:
    """What :meth:`Predictor.analyze` found in one movie.

    Attributes
    ----------
    localizations
        Puncta localizations (the ``localizations.csv`` table).
    calcium_events
        Calcium events at puncta (``punctum_id`` -1 until assigned to tracks).
    n_frames
        Frames analysed.
    elapsed_s
        Wall time of the analysis (reading, network, post-processing).
    """

    localizations: LocalizationTable
    calcium_events: CalciumEvents
    n_frames: int
    elapsed_s: float

    @property
    def frames_per_s(self) -> float:
        """Analysis speed."""
        return self.n_frames / self.elapsed_s if self.elapsed_s > 0 else float("nan")


def physical_maps(out: HybridOutput, config: ModelConfig) -> OutputMaps:
    """Network outputs converted to physical units (photons, px, probabilities)."""
    scale = torch.tensor([1.0, 1.0, config.photon_max], device=out.sigma.device)[None, :, None, None]
    return OutputMaps(
        probability=out.probability[:, 0].float(), offset_px=out.offset_px.float(),
        photons=out.photons[:, 0].float() * config.photon_max, sigma=out.sigma.float() * scale,
        background=out.background[:, 0].float() * config.background_max,
        calcium=torch.sigmoid(out.calcium_logit[:, 0].float()) if out.calcium_logit is not None else None,
    )


def average_maps(members: Sequence[OutputMaps]) -> OutputMaps:
    """Ensemble average; uncertainties combine the members' variances and the spread of their means."""
    if len(members) == 1:
        return members[0]

    def mean(tensors: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(tensors).mean(0)

    means = torch.stack([torch.cat([m.offset_px, m.photons[:, None]], 1) for m in members])
    variances = torch.stack([m.sigma**2 for m in members]).mean(0) + means.var(0, unbiased=False)
    calcium = [m.calcium for m in members if m.calcium is not None]
    return OutputMaps(
        probability=mean([m.probability for m in members]), offset_px=mean([m.offset_px for m in members]),
        photons=mean([m.photons for m in members]), sigma=variances.sqrt(),
        background=mean([m.background for m in members]), calcium=mean(calcium) if calcium else None,
    )


class Predictor:
    """One model or an ensemble, ready to analyse movies."""

    def __init__(self, checkpoints: Sequence[str | Path], prediction: PredictionParams) -> None:
        if not checkpoints:
            raise ScopeweaveError("give at least one checkpoint.")
        self.prediction = prediction
        if prediction.num_threads > 0:
            torch.set_num_threads(prediction.num_threads)
        self.device = resolve_device(prediction.device)
        self.members: list[LoadedModel] = [load_model(p) for p in checkpoints]
        first = self.members[0]
        for other in self.members[1:]:
            a, b = first.model.config, other.model.config
            if (a.in_channels, a.context_frames) != (b.in_channels, b.context_frames):
                raise ScopeweaveError(
                    f"ensemble members must share in_channels and context_frames: {first.path} has "
                    f"({a.in_channels}, {a.context_frames}), {other.path} has ({b.in_channels}, {b.context_frames})."
                )
        for member in self.members:
            member.model.to(self.device)

    @property
    def config(self) -> ModelConfig:
        """Shape of the (first) model: input channels and context frames."""
        return self.members[0].model.config

    @property
    def trained_pixel_size_nm(self) -> float | None:
        """Pixel size the (first) model was trained for, if recorded."""
        value = self.members[0].trained_for.get("pixel_size_nm")
        return float(value) if isinstance(value, (int, float)) else None

    @torch.inference_mode()
    def predict(self, windows: NDArray[np.float32]) -> OutputMaps:
        """Output maps of a ``(batch, channels, frames, y, x)`` array of normalised windows (inputs of the
        first model; members with another ``input_scale_photons`` get their puncta channel rescaled)."""
        x = torch.from_numpy(np.ascontiguousarray(windows)).to(self.device)
        members = []
        reference = self.config.input_scale_photons
        for member in self.members:
            config = member.model.config
            inputs = x
            if config.input_scale_photons != reference:
                inputs = x.clone()
                inputs[:, 0] *= reference / config.input_scale_photons
            members.append(physical_maps(member.model(inputs), config))
        return average_maps(members)

    def analyze(self, movie: NDArray[Any], *, calcium: NDArray[Any] | None, camera: CameraModel,
                pixel_size_nm: float, on_frames: Callable[[int], None] | None = None) -> Analysis:
        """Localizations and calcium events of a ``(t, y, x)`` movie of camera counts.

        Parameters
        ----------
        movie
            Puncta channel (may be memory-mapped; it is read chunk by chunk).
        calcium
            Calcium channel of the same shape, or ``None``.  A two-channel model
            given none sees ΔF/F0 = 0 (no calcium activity) and reports no events.
        camera
            Counts to photons for both channels.
        pixel_size_nm
            Pixel size of the movie.
        on_frames
            Called with the number of frames finished after each batch (progress).
        """
        t0 = time.perf_counter()
        stack = movie[None] if movie.ndim == 2 else movie
        if stack.ndim != 3:
            raise ValueError(f"movie must be (t, y, x); got shape {stack.shape}.")
        if calcium is not None and calcium.shape != stack.shape:
            raise ValueError(f"calcium channel shape {calcium.shape} differs from the movie's {stack.shape}.")
        if not pixel_size_nm > 0:
            raise ValueError(f"pixel_size_nm must be > 0 (got {pixel_size_nm!r}).")
        config, pp = self.config, self.prediction
        n_frames = stack.shape[0]
        use_calcium = config.has_calcium and calcium is not None
        f0 = calcium_f0(camera.to_photons(calcium[f0_frame_indices(n_frames)])) if use_calcium and calcium is not None else None
        builder = CalciumEventBuilder(threshold=pp.calcium_threshold, min_pixels=pp.min_event_pixels,
                                      pixel_size_nm=pixel_size_nm, max_gap_frames=pp.calcium_gap_frames)
        tables = []
        for start in range(0, n_frames, pp.chunk_frames):
            frames = np.arange(start, min(n_frames, start + pp.chunk_frames))
            windows = context_indices(frames, n_frames, config.context_frames)
            lo, hi = int(windows.min()), int(windows.max()) + 1
            channels = [puncta_input(camera.to_photons(stack[lo:hi]), config.input_scale_photons)]
            dff = None
            if config.has_calcium:
                if calcium is not None and f0 is not None:
                    dff = calcium_dff(camera.to_photons(calcium[lo:hi]), f0)
                    channels.append(dff)
                else:
                    channels.append(np.zeros_like(channels[0]))
            chunk = np.stack(channels, axis=1)  # (frames, channels, y, x)
            for b in range(0, len(frames), pp.batch_size):
                batch_frames = frames[b : b + pp.batch_size]
                index = windows[b : b + pp.batch_size] - lo
                batch = np.ascontiguousarray(chunk[index].transpose(0, 2, 1, 3, 4))
                maps = self.predict(batch)
                tables.append(localizations_from_maps(
                    maps, batch_frames, pixel_size_nm=pixel_size_nm, raw_threshold=pp.raw_threshold,
                    detection_threshold=pp.detection_threshold, split_threshold=pp.split_threshold))
                if use_calcium and maps.calcium is not None and dff is not None:
                    probability = maps.calcium.cpu().numpy()
                    for k, frame in enumerate(batch_frames):
                        builder.add_frame(int(frame), probability[k], dff[int(frame) - lo])
                if on_frames is not None:
                    on_frames(len(batch_frames))
        events = builder.finish() if use_calcium else CalciumEvents.empty()
        return Analysis(localizations=LocalizationTable.concat(tables), calcium_events=events, n_frames=n_frames,
                        elapsed_s=time.perf_counter() - t0)


def assign_events_to_tracks(events: CalciumEvents, tracks: Tracks, *, n_frames: int, pixel_size_nm: float,
                            max_distance_nm: float) -> CalciumEvents:
    """Give each event the id of the nearest track at its onset frame (within ``max_distance_nm``), else -1.

    Track positions are interpolated across gaps and held before a track's
    first and after its last localization only within the track's lifetime:
    a track is a candidate only for onsets between its first and last frame.
    """
    if len(events) == 0 or len(tracks) == 0:
        return attrs.evolve(events, punctum_id=np.full(len(events), -1))
    ids, x_px, y_px = track_positions_px(tracks, n_frames, pixel_size_nm)
    loc = tracks.localizations
    first = np.array([loc.frame[tracks.track_id == t].min() for t in ids])
    last = np.array([loc.frame[tracks.track_id == t].max() for t in ids])
    ex = nm_to_px(events.x_nm, pixel_size_nm)
    ey = nm_to_px(events.y_nm, pixel_size_nm)
    onset = np.clip(events.frame, 0, n_frames - 1)
    distance_nm = np.hypot(x_px[:, onset] - ex[None, :], y_px[:, onset] - ey[None, :]) * pixel_size_nm
    alive = (first[:, None] <= onset[None, :]) & (onset[None, :] <= last[:, None])
    distance_nm[~alive] = np.inf
    nearest = np.argmin(distance_nm, axis=0)
    ok = distance_nm[nearest, np.arange(len(events))] <= max_distance_nm
    return attrs.evolve(events, punctum_id=np.where(ok, ids[nearest], -1))
