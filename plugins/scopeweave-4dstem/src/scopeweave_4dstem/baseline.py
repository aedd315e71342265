"""Baseline (descan and offset) removal from CoM maps.

Every mode maps ``(c_y, c_x)`` maps of shape ``(scan_y, scan_x)`` to
corrected maps; NaN positions (empty patterns) are ignored by the fits and
stay NaN.  Each mode commutes with adding a constant to the maps, and the
plane mode also with adding any plane: that is what makes it remove descan.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError

__all__ = ["subtract_baseline"]

Maps = tuple[NDArray[np.float64], NDArray[np.float64]]


def subtract_baseline(
    com_y: NDArray[np.floating[Any]],
    com_x: NDArray[np.floating[Any]],
    *,
    mode: str,
    roi_px: tuple[int, int, int, int] | None = None,
    robust_steps: int = 0,
    robust_thresh: float = 2.0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[str, Any]]:
    """Remove the baseline; return the corrected maps and what was subtracted.

    Parameters
    ----------
    com_y, com_x
        CoM maps ``(scan_y, scan_x)`` in detector pixels.
    mode
        ``"none"``, ``"median"``, ``"rowcol"``, ``"roi"`` or ``"plane"``.
    roi_px
        ``[y0, y1, x0, x1]`` reference region for ``"roi"``.
    robust_steps, robust_thresh
        Plane mode: refits without the positions whose residual is above
        ``robust_thresh`` times the residual RMS.
    """
    y = np.asarray(com_y, dtype=np.float64)
    x = np.asarray(com_x, dtype=np.float64)
    if not np.isfinite(y).any():
        raise ScopeweaveError("no pattern has gated intensity: every CoM is undefined (check the gates and roi_px).")
    if mode == "none":
        return y.copy(), x.copy(), {"mode": "none"}
    if mode == "median":
        my, mx = float(np.nanmedian(y)), float(np.nanmedian(x))
        return y - my, x - mx, {"mode": "median", "offset_yx_px": [my, mx]}
    if mode == "rowcol":
        ry, rx = y - _nanmedian_keep(y, axis=1), x - _nanmedian_keep(x, axis=1)
        return ry - _nanmedian_keep(ry, axis=0), rx - _nanmedian_keep(rx, axis=0), {"mode": "rowcol"}
    if mode == "roi":
        if roi_px is None:
            raise ScopeweaveError("baseline = 'roi' needs baseline_roi_px = [y0, y1, x0, x1].")
        y0, y1, x0, x1 = roi_px
        region_y, region_x = y[y0:y1, x0:x1], x[y0:y1, x0:x1]
        if not np.isfinite(region_y).any():
            raise ScopeweaveError(
                f"baseline_roi_px {list(roi_px)} holds no probe position with a defined CoM "
                f"(the scan is {list(y.shape)})."
            )
        my, mx = float(np.nanmean(region_y)), float(np.nanmean(region_x))
        return y - my, x - mx, {"mode": "roi", "offset_yx_px": [my, mx], "roi_px": list(roi_px)}
    if mode == "plane":
        coefficients, n_used = _fit_plane(y, x, robust_steps=robust_steps, robust_thresh=robust_thresh)
        plane_y, plane_x = _evaluate_plane(coefficients, y.shape)
        return y - plane_y, x - plane_x, {
            "mode": "plane",
            # LiberTEM's layout: rows [offset, d/dy, d/dx], columns [y, x].
            "regression": coefficients.tolist(),
            "n_positions_used": n_used,
        }
    raise ScopeweaveError(f"unknown baseline mode {mode!r} (use none, median, rowcol, roi or plane).")


def _nanmedian_keep(values: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """``nanmedian`` along ``axis`` with all-NaN lines giving 0 (nothing to subtract)."""
    finite = np.isfinite(values)
    filled = np.where(finite.any(axis=axis, keepdims=True), values, 0.0)
    with np.errstate(all="ignore"):
        return np.nan_to_num(np.nanmedian(np.where(finite, filled, np.nan), axis=axis, keepdims=True))


def _fit_plane(
    y: NDArray[np.float64], x: NDArray[np.float64], *, robust_steps: int, robust_thresh: float
) -> tuple[NDArray[np.float64], int]:
    rows, cols = np.indices(y.shape)
    use = np.isfinite(y) & np.isfinite(x)
    design_all = np.stack([np.ones(y.size), rows.ravel(), cols.ravel()], axis=1).astype(np.float64)
    targets_all = np.stack([y.ravel(), x.ravel()], axis=1)
    coefficients: NDArray[np.float64] = np.zeros((3, 2))
    for step in range(robust_steps + 1):
        mask = use.ravel()
        if mask.sum() < 3:
            raise ScopeweaveError("the plane baseline needs at least 3 probe positions with a defined CoM.")
        coefficients = np.asarray(np.linalg.lstsq(design_all[mask], targets_all[mask], rcond=None)[0], dtype=np.float64)
        if step == robust_steps:
            break
        residual = np.linalg.norm(targets_all - design_all @ coefficients, axis=1)
        rms = np.sqrt(np.nanmean(residual[mask] ** 2))
        keep = np.isfinite(residual) & (residual <= robust_thresh * rms)
        if rms == 0 or keep.sum() == mask.sum() or keep.sum() < 3:
            break
        use = keep.reshape(y.shape)
    return coefficients, int(use.sum())


def _evaluate_plane(coefficients: NDArray[np.float64], shape: tuple[int, ...]) -> Maps:
    rows, cols = np.indices(shape)
    plane_y = coefficients[0, 0] + coefficients[1, 0] * rows + coefficients[2, 0] * cols
    plane_x = coefficients[0, 1] + coefficients[1, 1] * rows + coefficients[2, 1] * cols
    return plane_y, plane_x
