"""Calcium signals at puncta: ΔF/F0 traces, event detection, co-occurrence with a null model.

For every track a ``(2r+1) x (2r+1)`` ROI follows the punctum (positions
interpolated across gaps and held before its first and after its last
localization) and gives a fluorescence trace F(t) from the calcium channel
(in photons, camera baseline removed).  F0 is a running low percentile of F;
ΔF/F0 = (F - F0) / F0.  An event is a run of frames where ΔF/F0 exceeds
``max(threshold_sigma * noise, min_amplitude_dff)`` (noise: 1.4826 x MAD of
the ΔF/F0 frame-to-frame differences / sqrt 2), runs closer than
``merge_gap_frames`` joined.

Null model: each track is copied to a control ROI at a random offset (its
trajectory shape kept) at least ``control_min_distance_nm`` from every
track; control traces go through the same detection, so
``enrichment = event rate at puncta / event rate at controls`` measures how
much more calcium activity sits on puncta than chance.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_puncta.ground_truth import CalciumEvents
from scopeweave_puncta.table import nm_to_px, px_to_nm
from scopeweave_puncta.tracking import Tracks

__all__ = [
    "CalciumAnalysis",
    "CalciumParams",
    "analyze_calcium",
    "delta_f_over_f",
    "detect_trace_events",
    "roi_traces",
    "track_positions_px",
]


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


@attrs.frozen(kw_only=True)
class CalciumParams:
    """ΔF/F0 traces and event detection.

    Attributes
    ----------
    roi_radius_px
        Half-size of the square ROI (2: 5 x 5 pixels).
    baseline_window_frames
        Window of the running F0 percentile; 0 uses the whole trace.
    baseline_percentile
        Percentile of F taken as F0.
    threshold_sigma
        Event threshold in units of the trace's ΔF/F0 noise.
    min_amplitude_dff
        Smallest ΔF/F0 accepted as an event, whatever the noise.
    merge_gap_frames
        Runs above threshold separated by at most this many frames are one event.
    control_min_distance_nm
        Control ROIs keep at least this distance from every track.
    seed
        Seed of the control-ROI placement.
    camera_baseline_adu
        Camera offset subtracted from the calcium channel; -1 takes it from the
        sample's metadata.json (0 when there is none).
    """

    roi_radius_px: int = attrs.field(default=2, validator=_non_negative)
    baseline_window_frames: int = attrs.field(default=0, validator=_non_negative)
    baseline_percentile: float = attrs.field(default=20.0)
    threshold_sigma: float = attrs.field(default=5.0, validator=_non_negative)
    min_amplitude_dff: float = attrs.field(default=0.2, validator=_non_negative)
    merge_gap_frames: int = attrs.field(default=1, validator=_non_negative)
    control_min_distance_nm: float = attrs.field(default=1000.0, validator=_non_negative)
    seed: int = 0
    camera_baseline_adu: float = -1.0

    @baseline_percentile.validator
    def _check_percentile(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not 0 <= value <= 100:
            raise ValueError(f"'baseline_percentile' must be between 0 and 100 (got {value!r}).")


def track_positions_px(tracks: Tracks, n_frames: int, pixel_size_nm: float
                       ) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Track ids and ``(n_tracks, n_frames)`` positions (pixel-centre coordinates), gaps interpolated."""
    ids = tracks.track_ids()
    loc = tracks.localizations
    x = np.empty((len(ids), n_frames))
    y = np.empty((len(ids), n_frames))
    frames = np.arange(n_frames)
    for row, track in enumerate(ids):
        sel = np.flatnonzero(tracks.track_id == track)
        sel = sel[np.argsort(loc.frame[sel])]
        x[row] = np.interp(frames, loc.frame[sel], nm_to_px(loc.x_nm[sel], pixel_size_nm))
        y[row] = np.interp(frames, loc.frame[sel], nm_to_px(loc.y_nm[sel], pixel_size_nm))
    return ids, x, y


def roi_traces(movie: NDArray[np.floating[Any]], x_px: NDArray[np.float64], y_px: NDArray[np.float64],
               radius_px: int) -> NDArray[np.float64]:
    """Mean of a square ROI following ``(x_px, y_px)`` ``(n, t)`` in ``movie (t, h, w)`` -> ``(n, t)``."""
    n_frames, height, width = movie.shape
    size = 2 * radius_px + 1
    if size > min(height, width):
        raise ValueError(f"ROI of {size} px does not fit in {height} x {width} frames.")
    y0 = np.clip(np.rint(y_px).astype(np.int64) - radius_px, 0, height - size)
    x0 = np.clip(np.rint(x_px).astype(np.int64) - radius_px, 0, width - size)
    offsets = np.arange(size)
    t = np.broadcast_to(np.arange(n_frames), x_px.shape)
    values = movie[t[..., None, None], (y0[..., None] + offsets)[..., :, None], (x0[..., None] + offsets)[..., None, :]]
    return values.mean(axis=(-1, -2), dtype=np.float64)


def delta_f_over_f(traces: NDArray[np.float64], params: CalciumParams) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """ΔF/F0 of ``(n, t)`` traces and their F0."""
    from scipy import ndimage

    if traces.size == 0:
        return traces.astype(np.float64), traces.astype(np.float64)
    window = params.baseline_window_frames
    if window == 0 or window >= traces.shape[1]:
        f0 = np.repeat(np.percentile(traces, params.baseline_percentile, axis=1, keepdims=True), traces.shape[1], 1)
    else:
        f0 = ndimage.percentile_filter(traces, params.baseline_percentile, size=(1, window), mode="nearest")
    f0 = np.maximum(f0, 1e-9)
    return (traces - f0) / f0, f0


def detect_trace_events(dff: NDArray[np.float64], params: CalciumParams
                        ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Events of each ``(n, t)`` ΔF/F0 trace: ``(row, onset_frame, duration_frames, peak_dff)``."""
    from scipy import ndimage

    rows: list[int] = []
    onsets: list[int] = []
    durations: list[int] = []
    peaks: list[float] = []
    for row, trace in enumerate(dff):
        diffs = np.diff(trace)
        noise = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / math.sqrt(2.0) if diffs.size else 0.0
        threshold = max(params.threshold_sigma * noise, params.min_amplitude_dff)
        above = trace > threshold
        if params.merge_gap_frames:
            above = ndimage.binary_closing(above, structure=np.ones(params.merge_gap_frames + 1, dtype=bool)) | above
        labels, n = ndimage.label(above)
        for index in range(1, n + 1):
            span = np.flatnonzero(labels == index)
            rows.append(row)
            onsets.append(int(span[0]))
            durations.append(len(span))
            peaks.append(float(trace[span].max()))
    return (np.asarray(rows, dtype=np.int64), np.asarray(onsets, dtype=np.int64),
            np.asarray(durations, dtype=np.int64), np.asarray(peaks, dtype=np.float64))


@attrs.frozen(kw_only=True, eq=False)
class CalciumAnalysis:
    """Result of :func:`analyze_calcium`.

    Attributes
    ----------
    track_ids
        Track of each trace row.
    dff
        ``(n_tracks, n_frames)`` ΔF/F0 traces at puncta.
    events
        Events at puncta (``punctum_id`` = track id).
    control_dff
        ΔF/F0 traces of the control ROIs (same rows as ``dff``).
    n_control_events
        Events found in the control traces.
    statistics
        Co-occurrence statistics (see :func:`analyze_calcium`).
    """

    track_ids: NDArray[np.int64]
    dff: NDArray[np.float64]
    events: CalciumEvents
    control_dff: NDArray[np.float64]
    n_control_events: int
    statistics: dict[str, Any]


def _control_offsets(x: NDArray[np.float64], y: NDArray[np.float64], shape: tuple[int, int], min_distance_px: float,
                     margin_px: int, rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Shift each trajectory to a random place away from all tracks (best of 50 tries)."""
    height, width = shape
    cx, cy = x.copy(), y.copy()
    for row in range(x.shape[0]):
        best, best_d = (0.0, 0.0), -1.0
        for _ in range(50):
            tx = rng.uniform(margin_px, width - 1 - margin_px) - x[row].mean()
            ty = rng.uniform(margin_px, height - 1 - margin_px) - y[row].mean()
            d = float(np.min(np.hypot(x - (x[row] + tx), y - (y[row] + ty))))
            if d > best_d:
                best, best_d = (tx, ty), d
            if d >= min_distance_px:
                break
        cx[row] = x[row] + best[0]
        cy[row] = y[row] + best[1]
    return cx, cy


def analyze_calcium(
    calcium_photons: NDArray[np.floating[Any]],
    tracks: Tracks,
    *,
    pixel_size_nm: float,
    frame_interval_ms: float,
    params: CalciumParams,
    mobile_by_track: dict[int, int] | None = None,
) -> CalciumAnalysis:
    """ΔF/F0 traces and events at every track, and their co-occurrence statistics.

    ``statistics`` holds: ``n_puncta``, ``n_events``, ``fraction_puncta_with_events``,
    ``event_rate_hz_per_punctum``, ``control_event_rate_hz``, ``enrichment`` (puncta /
    control rate), ``mean_peak_dff``, and per class (``mobile``, ``immobile``) the number
    of puncta and their event rate, when ``mobile_by_track`` is given.
    """
    n_frames = calcium_photons.shape[0]
    ids, x, y = track_positions_px(tracks, n_frames, pixel_size_nm)
    movie = np.asarray(calcium_photons, dtype=np.float32)
    dff, _ = delta_f_over_f(roi_traces(movie, x, y, params.roi_radius_px), params)
    rows, onsets, durations, peaks = detect_trace_events(dff, params)
    rng = np.random.default_rng(params.seed)
    cx, cy = _control_offsets(x, y, movie.shape[1:], params.control_min_distance_nm / pixel_size_nm,
                              params.roi_radius_px, rng)
    control_dff, _ = delta_f_over_f(roi_traces(movie, cx, cy, params.roi_radius_px), params)
    control_rows = detect_trace_events(control_dff, params)[0]
    events = CalciumEvents(
        event_id=np.arange(len(rows)), frame=onsets,
        x_nm=px_to_nm(x[rows, onsets], pixel_size_nm) if len(rows) else np.zeros(0),
        y_nm=px_to_nm(y[rows, onsets], pixel_size_nm) if len(rows) else np.zeros(0),
        amplitude_dff=peaks, duration_frames=durations, punctum_id=ids[rows] if len(rows) else np.zeros(0),
    )
    duration_s = n_frames * frame_interval_ms * 1e-3
    n_puncta = len(ids)
    rate = len(rows) / (n_puncta * duration_s) if n_puncta else math.nan
    control_rate = len(control_rows) / (n_puncta * duration_s) if n_puncta else math.nan
    stats: dict[str, Any] = {
        "n_puncta": n_puncta,
        "n_events": len(rows),
        "fraction_puncta_with_events": float(len(np.unique(rows)) / n_puncta) if n_puncta else math.nan,
        "event_rate_hz_per_punctum": rate,
        "control_event_rate_hz": control_rate,
        "n_control_events": len(control_rows),
        "enrichment": rate / control_rate if control_rate else (math.inf if rate else math.nan),
        "mean_peak_dff": float(peaks.mean()) if len(peaks) else math.nan,
    }
    if mobile_by_track is not None:
        classes = np.array([mobile_by_track.get(int(t), -1) for t in ids])
        for label, value in (("mobile", 1), ("immobile", 0)):
            members = np.flatnonzero(classes == value)
            n_events = int(np.isin(rows, members).sum())
            stats[f"{label}_n_puncta"] = len(members)
            stats[f"{label}_event_rate_hz"] = n_events / (len(members) * duration_s) if len(members) else math.nan
    return CalciumAnalysis(track_ids=ids, dff=dff, events=events, control_dff=control_dff,
                           n_control_events=len(control_rows), statistics=stats)
