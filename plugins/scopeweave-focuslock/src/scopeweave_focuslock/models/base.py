"""Pieces shared by the focus models: the z estimate, the ellipticity signal, sample checks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "MAX_RELATIVE_WIDTH_ERROR",
    "MIN_SAMPLES",
    "SizeCurve",
    "ZEstimate",
    "calibration_samples",
    "ellipticity",
    "ellipticity_variance",
    "expected_sign",
    "focus_crossing",
    "monotonic_interval",
    "read_float",
]

#: Fewest distinct samples any model accepts.
MIN_SAMPLES = 5
#: Without a measurement covariance, widths further than this fraction from the
#: model's widths at the recovered z are out of domain (a spot beyond a turning
#: point of the ellipticity, or another object).
MAX_RELATIVE_WIDTH_ERROR = 0.1


@attrs.frozen(kw_only=True, eq=False)
class ZEstimate:
    """z from widths (arrays broadcast like the inputs).

    Attributes
    ----------
    z_um
        Estimated z; clamped to the usable range's end where ``in_domain`` is False.
    z_err_um
        One-sigma uncertainty (from the measurement covariance when given,
        else from the calibration's scatter).
    in_domain
        Inside the usable range and (with a covariance) consistent with the model.
    distance
        How far the widths lie from the model curve: the chi-square of the
        residual with a covariance (one degree of freedom for the Zhuang
        model), else the model's native residual (sqrt-width distance in
        px^0.5 for Zhuang, ellipticity residual for the others).
    """

    z_um: NDArray[np.float64]
    z_err_um: NDArray[np.float64]
    in_domain: NDArray[np.bool_]
    distance: NDArray[np.float64]


@attrs.frozen(kw_only=True, eq=False)
class SizeCurve:
    """Mean width ``(sigma_x + sigma_y) / 2`` against z over a usable range.

    The ellipticity alone cannot tell a spot inside the usable range from one
    beyond a turning point of the ellipticity (same ellipticity, much larger
    spot); the ellipticity models check the spot's size against this curve.

    Attributes
    ----------
    knots_z_um, knots_size_px
        Per-step means, z ascending.
    """

    knots_z_um: tuple[float, ...]
    knots_size_px: tuple[float, ...]

    @classmethod
    def from_samples(
        cls, z: NDArray[np.float64], sx: NDArray[np.float64], sy: NDArray[np.float64], low: float, high: float
    ) -> SizeCurve:
        """Per-step mean sizes of the samples within ``[low, high]``."""
        inside = (z >= low) & (z <= high)
        zs, size = step_means(z[inside], 0.5 * (sx[inside] + sy[inside]))
        return cls(knots_z_um=tuple(float(v) for v in zs), knots_size_px=tuple(float(v) for v in size))

    def consistent(self, z_um: ArrayLike, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike) -> NDArray[np.bool_]:
        """Whether the measured size is within :data:`MAX_RELATIVE_WIDTH_ERROR` of the curve at ``z_um``."""
        expected = np.interp(np.asarray(z_um, dtype=np.float64), self.knots_z_um, self.knots_size_px)
        size = 0.5 * (np.asarray(sigma_x_px, dtype=np.float64) + np.asarray(sigma_y_px, dtype=np.float64))
        with np.errstate(invalid="ignore"):
            return np.asarray(np.abs(size - expected) <= MAX_RELATIVE_WIDTH_ERROR * expected)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready knots."""
        return {"knots_z_um": list(self.knots_z_um), "knots_size_px": list(self.knots_size_px)}

    @classmethod
    def from_dict(cls, data: Any, *, where: str) -> SizeCurve:
        """Restore from :meth:`to_dict`; ValueError naming the problem."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: 'size_curve' must be a table of knots_z_um and knots_size_px")
        kz, ks = data.get("knots_z_um"), data.get("knots_size_px")
        ok = (isinstance(kz, list) and isinstance(ks, list) and len(kz) == len(ks) >= 1
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in kz + ks))
        if not ok or not np.all(np.diff(np.asarray(kz)) > 0) or min(ks) <= 0:  # type: ignore[arg-type]
            raise ValueError(f"{where}: 'size_curve' needs equally long lists of finite knots, z ascending, sizes > 0")
        return cls(knots_z_um=tuple(float(v) for v in kz), knots_size_px=tuple(float(v) for v in ks))  # type: ignore[union-attr]


def ellipticity(sigma_x_px: ArrayLike, sigma_y_px: ArrayLike) -> NDArray[np.float64]:
    """``(sigma_x - sigma_y) / (sigma_x + sigma_y)``: 0 at focus, within (-1, 1)."""
    sx = np.asarray(sigma_x_px, dtype=np.float64)
    sy = np.asarray(sigma_y_px, dtype=np.float64)
    return np.asarray((sx - sy) / (sx + sy))


def ellipticity_variance(
    sigma_x_px: ArrayLike, sigma_y_px: ArrayLike, width_covariance: ArrayLike
) -> NDArray[np.float64]:
    """Variance of the ellipticity from the widths' ``(..., 2, 2)`` covariance (delta method)."""
    sx = np.asarray(sigma_x_px, dtype=np.float64)
    sy = np.asarray(sigma_y_px, dtype=np.float64)
    cov = np.asarray(width_covariance, dtype=np.float64)
    total = (sx + sy) ** 2
    gx, gy = 2.0 * sy / total, -2.0 * sx / total
    return np.asarray(gx * gx * cov[..., 0, 0] + 2 * gx * gy * cov[..., 0, 1] + gy * gy * cov[..., 1, 1])


def expected_sign(expected_slope: str) -> int:
    """+1, -1, or 0 for ``auto``; ValueError for anything else."""
    signs = {"auto": 0, "positive": 1, "negative": -1}
    if expected_slope not in signs:
        raise ValueError(f"'expected_slope' must be auto, positive or negative (got {expected_slope!r}).")
    return signs[expected_slope]


def calibration_samples(
    z_um: ArrayLike, sigma_x_px: ArrayLike, sigma_y_px: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The finite, positive samples sorted by z; ValueError when too few remain."""
    z = np.asarray(z_um, dtype=np.float64).ravel()
    sx = np.asarray(sigma_x_px, dtype=np.float64).ravel()
    sy = np.asarray(sigma_y_px, dtype=np.float64).ravel()
    if not z.shape == sx.shape == sy.shape:
        raise ValueError(f"z_um, sigma_x_px and sigma_y_px must have one value per sample "
                         f"(got {z.size}, {sx.size}, {sy.size}).")
    keep = np.isfinite(z) & np.isfinite(sx) & np.isfinite(sy) & (sx > 0) & (sy > 0)
    z, sx, sy = z[keep], sx[keep], sy[keep]
    if np.unique(z).size < MIN_SAMPLES:
        raise ValueError(f"a focus model needs samples at >= {MIN_SAMPLES} distinct z positions "
                         f"(got {np.unique(z).size} usable of {keep.size})")
    order = np.argsort(z, kind="stable")
    return z[order], sx[order], sy[order]


def step_means(z: NDArray[np.float64], values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean of ``values`` at each distinct z (z sorted)."""
    unique, inverse = np.unique(z, return_inverse=True)
    sums = np.bincount(inverse, weights=values)
    counts = np.bincount(inverse)
    return unique, sums / counts


def focus_crossing(z: NDArray[np.float64], signal: NDArray[np.float64], *, sign: int, centre_um: float) -> float:
    """z of the zero crossing of ``signal`` (sampled at sorted ``z``) nearest ``centre_um``.

    Crossings whose direction matches ``sign`` are preferred when ``sign`` is
    not 0; the crossing is linearly interpolated.  ValueError without one.
    """
    candidates: list[tuple[bool, float, float]] = []
    for k in range(z.size - 1):
        a, b = signal[k], signal[k + 1]
        if a == 0.0:
            direction = np.sign(b - a)
            candidates.append((sign != 0 and direction != sign, abs(z[k] - centre_um), float(z[k])))
        elif a * b < 0:
            crossing = z[k] + (z[k + 1] - z[k]) * a / (a - b)
            direction = np.sign(b - a)
            candidates.append((sign != 0 and direction != sign, abs(crossing - centre_um), float(crossing)))
    if signal[-1] == 0.0 and z.size > 1:
        candidates.append((False, abs(z[-1] - centre_um), float(z[-1])))
    if not candidates:
        raise ValueError(
            f"the ellipticity never changes sign between z = {z[0]:.3f} and {z[-1]:.3f} um: "
            "the sweep does not cross focus (centre the sweep on focus or widen it)"
        )
    return min(candidates)[2]


def monotonic_interval(
    z: NDArray[np.float64], signal: NDArray[np.float64], *, around_um: float, sign: int
) -> tuple[float, float]:
    """Largest interval of sorted samples ``z`` containing ``around_um`` where ``signal`` moves in ``sign``.

    The ends are sample positions; ``sign`` is +1 or -1.
    """
    step = np.diff(signal) * sign
    k = int(np.clip(np.searchsorted(z, around_um) - 1, 0, z.size - 2))
    lo = k
    while lo > 0 and step[lo - 1] > 0:
        lo -= 1
    hi = k
    while hi < step.size and step[hi] > 0:
        hi += 1
    if hi == k:
        return (float(z[k]), float(z[k]))
    return float(z[lo]), float(z[hi])


def read_float(data: Mapping[str, Any], key: str, *, where: str) -> float:
    """A finite number from a saved model; ValueError naming the key otherwise."""
    if key not in data:
        raise ValueError(f"{where}: missing key {key!r}")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: {key!r} must be a finite number (got {value!r})")
    return float(value)


def read_range(data: Mapping[str, Any], key: str, *, where: str) -> tuple[float, float]:
    """A ``[low, high]`` pair from a saved model."""
    value = data.get(key)
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
            or not value[0] < value[1]):
        raise ValueError(f"{where}: {key!r} must be [low, high] with low < high (got {value!r})")
    return float(value[0]), float(value[1])


def read_sign(data: Mapping[str, Any], key: str, *, where: str) -> int:
    """+1 or -1 from a saved model."""
    value = data.get(key)
    if value not in (1, -1) or isinstance(value, bool):
        raise ValueError(f"{where}: {key!r} must be 1 or -1 (got {value!r})")
    return int(value)
