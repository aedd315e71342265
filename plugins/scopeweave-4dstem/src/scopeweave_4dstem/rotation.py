"""Scan rotation and flip between the detector and the scan, and their estimation.

Convention (as LiberTEM): maps are indexed ``(y, x)`` with y down; a
rotation by ``angle_deg`` turns a vector clockwise on screen::

    flip:    v_y -> -v_y              (when flip_y)
    rotate:  x' = cos a x - sin a y,   y' = sin a x + cos a y

Estimation: a projected electrostatic field is curl-free.  Because the
finite-difference operators are linear and the rotation is the same at
every position, the curl of the rotated field is exactly
``cos a curl + sin a div`` of the unrotated one, so the mean squared curl is
a quadratic form in ``(cos a, sin a)`` whose smallest eigenvector gives the
angle in closed form (for each flip).  The form cannot tell ``a`` from
``a + 180°`` (the field just changes sign); the divergence settles it: its
distribution is skewed to the negative side when converging features (atom
columns, positive charge) dominate.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["RotationEstimate", "apply_rotation", "curl_divergence", "estimate_rotation"]


def apply_rotation(
    v_y: NDArray[np.floating[Any]], v_x: NDArray[np.floating[Any]], angle_deg: float, flip_y: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Flip (optional) then rotate the vector field ``(v_y, v_x)``."""
    y = np.asarray(v_y, dtype=np.float64) * (-1.0 if flip_y else 1.0)
    x = np.asarray(v_x, dtype=np.float64)
    a = math.radians(angle_deg)
    rotated_y = np.asarray(math.sin(a) * x + math.cos(a) * y, dtype=np.float64)
    rotated_x = np.asarray(math.cos(a) * x - math.sin(a) * y, dtype=np.float64)
    return rotated_y, rotated_x


def curl_divergence(
    v_y: NDArray[np.floating[Any]], v_x: NDArray[np.floating[Any]]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``curl = d v_y/dx - d v_x/dy`` and ``div = d v_y/dy + d v_x/dx`` (central differences)."""
    dvy_dy, dvy_dx = (np.asarray(g, dtype=np.float64) for g in np.gradient(np.asarray(v_y, dtype=np.float64)))
    dvx_dy, dvx_dx = (np.asarray(g, dtype=np.float64) for g in np.gradient(np.asarray(v_x, dtype=np.float64)))
    return dvy_dx - dvx_dy, dvy_dy + dvx_dx


@attrs.frozen(kw_only=True)
class RotationEstimate:
    """Result of :func:`estimate_rotation`.

    Attributes
    ----------
    angle_deg
        Rotation in ``[0, 360)`` that makes the field curl-free.
    flip_y
        Whether the detector y axis must be flipped first.
    rms_curl_ratio
        RMS curl after correction divided by the RMS divergence after
        correction (small is good: below ~0.3 the estimate is trustworthy).
    divergence_skew
        Skewness of the divergence after correction.
    """

    angle_deg: float
    flip_y: bool
    rms_curl_ratio: float
    divergence_skew: float


def _second_moments(curl: NDArray[np.float64], div: NDArray[np.float64]) -> NDArray[np.float64]:
    ok = np.isfinite(curl) & np.isfinite(div)
    c, d = curl[ok], div[ok]
    return np.array([[np.mean(c * c), np.mean(c * d)], [np.mean(c * d), np.mean(d * d)]])


def _skew(values: NDArray[np.float64]) -> float:
    v = values[np.isfinite(values)]
    v = v - v.mean()
    spread = np.sqrt(np.mean(v * v))
    return float(np.mean(v**3) / spread**3) if spread > 0 else 0.0


def estimate_rotation(
    v_y: NDArray[np.floating[Any]], v_x: NDArray[np.floating[Any]], *, divergence_sign: str = "negative"
) -> RotationEstimate:
    """Rotation and flip that make the CoM field curl-free (see the module notes).

    Parameters
    ----------
    v_y, v_x
        Baseline-corrected CoM maps (NaN allowed).
    divergence_sign
        ``"negative"`` or ``"positive"``: the expected sign of the skewness
        of the corrected field's divergence, which picks between ``a`` and
        ``a + 180°``.
    """
    if v_y.shape[0] < 3 or v_y.shape[1] < 3:
        raise ValueError(f"rotation estimation needs a scan of at least 3 x 3 positions (got {list(v_y.shape)}).")
    best: tuple[float, float, bool] | None = None
    for flip in (False, True):
        y = -np.asarray(v_y, dtype=np.float64) if flip else np.asarray(v_y, dtype=np.float64)
        curl, div = curl_divergence(y, v_x)
        moments = _second_moments(curl, div)
        values, vectors = np.linalg.eigh(moments)
        cos_a, sin_a = vectors[:, 0]
        angle = math.degrees(math.atan2(sin_a, cos_a)) % 180.0
        residual = float(values[0]) / max(float(values[1]), 1e-300)
        if best is None or residual < best[0]:
            best = (residual, angle, flip)
    assert best is not None
    residual, angle, flip = best
    candidates = []
    for a in (angle, angle + 180.0):
        ry, rx = apply_rotation(v_y, v_x, a, flip)
        _, div = curl_divergence(ry, rx)
        candidates.append((a, _skew(div)))
    wanted = -1.0 if divergence_sign == "negative" else 1.0
    angle, skew = max(candidates, key=lambda item: wanted * item[1])
    return RotationEstimate(
        angle_deg=float(angle % 360.0), flip_y=flip, rms_curl_ratio=float(math.sqrt(max(residual, 0.0))), divergence_skew=skew
    )
