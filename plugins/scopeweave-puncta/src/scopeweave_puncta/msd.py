"""Mean squared displacement and mobile / immobile classification of tracks.

For each track the time-averaged MSD is computed at lags of 1 to
``max_lag_frames`` frames (pairs of points exactly that many frames apart, so
gaps are handled).  ``MSD(lag) = 4 D lag dt + 4 sigma_loc^2`` is fitted by
least squares (weights: number of pairs) on lags 1 to ``fit_lags``; a track is
mobile when ``D`` exceeds ``mobile_min_diffusion_um2_s``.  Tracks with fewer
than ``min_points`` localizations are left unclassified (``mobile = -1``).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_puncta.tracking import Tracks

__all__ = ["MotionParams", "TrackSummary", "msd_curve", "summarize_tracks"]


def _at_least(minimum: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be >= {minimum} (got {value!r}).")

    return check


@attrs.frozen(kw_only=True)
class MotionParams:
    """MSD analysis.

    Attributes
    ----------
    frame_interval_ms
        Time between frames (0: read it from the sample's metadata.json).
    max_lag_frames
        Longest lag of the MSD curve.
    fit_lags
        Lags used in the linear fit.
    min_points
        Shortest track that is classified.
    mobile_min_diffusion_um2_s
        Diffusion coefficient above which a track is mobile.
    """

    frame_interval_ms: float = attrs.field(default=0.0)
    max_lag_frames: int = attrs.field(default=10, validator=_at_least(1))
    fit_lags: int = attrs.field(default=4, validator=_at_least(2))
    min_points: int = attrs.field(default=8, validator=_at_least(3))
    mobile_min_diffusion_um2_s: float = attrs.field(default=0.005)

    @frame_interval_ms.validator
    def _check_interval(self, attribute: attrs.Attribute[float], value: float) -> None:
        if value < 0:
            raise ValueError(f"'frame_interval_ms' must be >= 0 (got {value!r}).")


def msd_curve(frame: NDArray[np.int64], x_nm: NDArray[np.float64], y_nm: NDArray[np.float64], max_lag: int
              ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """MSD (nm^2) at lags 1..``max_lag`` frames and the number of pairs behind each value (NaN if none)."""
    msd = np.full(max_lag, np.nan)
    counts = np.zeros(max_lag, dtype=np.int64)
    order = np.argsort(frame, kind="stable")
    frame, x_nm, y_nm = frame[order], x_nm[order], y_nm[order]
    for lag in range(1, max_lag + 1):
        j = np.searchsorted(frame, frame + lag)
        i = np.flatnonzero(j < len(frame))
        j = j[i]
        keep = frame[j] == frame[i] + lag
        i, j = i[keep], j[keep]
        if i.size:
            msd[lag - 1] = np.mean((x_nm[j] - x_nm[i]) ** 2 + (y_nm[j] - y_nm[i]) ** 2)
            counts[lag - 1] = i.size
    return msd, counts


@attrs.frozen(kw_only=True, eq=False)
class TrackSummary:
    """One row per track.

    Attributes
    ----------
    track_id, n_points, first_frame, last_frame
        Identity and extent of each track.
    mean_x_nm, mean_y_nm
        Mean position.
    diffusion_um2_s
        Fitted diffusion coefficient (NaN when unclassified).
    localization_error_nm
        Fitted static error ``sigma_loc`` (from the MSD offset; NaN when negative or unclassified).
    mobile
        1 mobile, 0 immobile, -1 not classified (too short).
    """

    track_id: NDArray[np.int64]
    n_points: NDArray[np.int64]
    first_frame: NDArray[np.int64]
    last_frame: NDArray[np.int64]
    mean_x_nm: NDArray[np.float64]
    mean_y_nm: NDArray[np.float64]
    diffusion_um2_s: NDArray[np.float64]
    localization_error_nm: NDArray[np.float64]
    mobile: NDArray[np.int64]

    def columns(self) -> dict[str, NDArray[Any]]:
        """Columns for ``track_summary.csv``."""
        return {f.name: getattr(self, f.name) for f in attrs.fields(TrackSummary)}

    def __len__(self) -> int:
        return len(self.track_id)


def summarize_tracks(tracks: Tracks, params: MotionParams, *, frame_interval_ms: float) -> TrackSummary:
    """MSD fit and mobility class of every track."""
    if frame_interval_ms <= 0:
        raise ValueError(f"frame_interval_ms must be > 0 (got {frame_interval_ms}).")
    loc = tracks.localizations
    ids = tracks.track_ids()
    out: dict[str, list[Any]] = {f.name: [] for f in attrs.fields(TrackSummary)}
    order = np.lexsort((loc.frame, tracks.track_id))
    tid = tracks.track_id[order]
    bounds = np.searchsorted(tid, ids[1:])
    dt_s = frame_interval_ms * 1e-3
    for track, rows in zip(ids, np.split(order, bounds), strict=True):
        frame, x, y = loc.frame[rows], loc.x_nm[rows], loc.y_nm[rows]
        d_um2_s = err_nm = np.nan
        mobile = -1
        if len(rows) >= params.min_points:
            msd, counts = msd_curve(frame, x, y, max(params.max_lag_frames, params.fit_lags))
            lags = np.arange(1, params.fit_lags + 1)
            use = counts[: params.fit_lags] > 0
            if np.count_nonzero(use) >= 2:
                w = counts[: params.fit_lags][use].astype(np.float64)
                slope, offset = np.polyfit(lags[use], msd[: params.fit_lags][use], 1, w=np.sqrt(w))
                d_um2_s = slope * 1e-6 / (4.0 * dt_s)
                err_nm = float(np.sqrt(offset / 4.0)) if offset > 0 else np.nan
                mobile = int(d_um2_s > params.mobile_min_diffusion_um2_s)
        out["track_id"].append(track)
        out["n_points"].append(len(rows))
        out["first_frame"].append(frame.min())
        out["last_frame"].append(frame.max())
        out["mean_x_nm"].append(x.mean())
        out["mean_y_nm"].append(y.mean())
        out["diffusion_um2_s"].append(d_um2_s)
        out["localization_error_nm"].append(err_nm)
        out["mobile"].append(mobile)
    dtypes = {"track_id": np.int64, "n_points": np.int64, "first_frame": np.int64, "last_frame": np.int64,
              "mobile": np.int64}
    columns: dict[str, Any] = {name: np.asarray(values, dtype=dtypes.get(name, np.float64))
                               for name, values in out.items()}
    return TrackSummary(**columns)
