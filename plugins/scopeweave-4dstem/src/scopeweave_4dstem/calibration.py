"""k-space calibration and the conversion of beam deflections to projected electric fields.

Physics: an electron of momentum ``p`` and speed ``v`` crossing a projected
field ``E t`` is deflected by ``theta = -e E t / (p v)`` (it carries negative
charge, so the beam moves against the field).  With
``p v = gamma m0 c^2 beta^2`` this is 343.7 V per mrad at 200 kV.  A CoM
shift of ``s`` detector pixels is ``s * pixel_size_k`` in k; with k in 1/Å,
``theta = lambda k``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_4dstem.params import CalibrationParams

__all__ = [
    "FieldMaps",
    "KCalibration",
    "electron_wavelength_angstrom",
    "field_from_shifts",
    "k_from_bragg_pairs",
    "pv_over_e_volts",
    "resolve_k_calibration",
]

_M0C2_EV = 510998.95  # electron rest energy
_HC_EV_ANGSTROM = 12398.419843320026  # h c in eV Å

KUnits = Literal["relative", "1/angstrom", "mrad"]


@attrs.frozen(kw_only=True)
class KCalibration:
    """Detector pixel size in k.

    Attributes
    ----------
    ky, kx
        Size of one detector pixel along y and x, in ``units``.
    units
        ``"1/angstrom"``, ``"mrad"`` or ``"relative"``.
    source
        How it was obtained: ``"pixel_size_kyx"``, ``"bragg"``,
        ``"interactive"``, ``"pixel_size_k"``, ``"convergence_angle"`` or
        ``"default"``.
    """

    ky: float
    kx: float
    units: KUnits
    source: str


def electron_wavelength_angstrom(voltage_kv: float) -> float:
    """Relativistic electron wavelength (Å) at ``voltage_kv``."""
    energy_ev = voltage_kv * 1e3
    return _HC_EV_ANGSTROM / math.sqrt(energy_ev * (2 * _M0C2_EV + energy_ev))


def pv_over_e_volts(voltage_kv: float) -> float:
    """``p v / e`` (volts): projected field ``E t`` per radian of deflection."""
    gamma = 1 + voltage_kv * 1e3 / _M0C2_EV
    return gamma * _M0C2_EV * (1 - 1 / gamma**2)


def k_from_bragg_pairs(
    pairs_px: Sequence[Sequence[Sequence[float]]], spacing_angstrom: float | None
) -> KCalibration:
    """Pixel sizes from opposite reflections ``+g`` and ``-g`` of known spacing ``d``.

    The two reflections of a pair are ``2 g = 2 / d`` apart in k.  One pair
    gives an isotropic size; two pairs in different directions give
    ``(k_y, k_x)`` from ``(dy k_y)^2 + (dx k_x)^2 = (2 / d)^2``.  Without a
    spacing the reflections define radius 1 (relative units).

    Raises
    ------
    ValueError
        A pair has coincident points, or two pairs do not determine two
        positive pixel sizes (nearly parallel, or inconsistent).
    """
    g = 1.0 / spacing_angstrom if spacing_angstrom else 1.0
    units: KUnits = "1/angstrom" if spacing_angstrom else "relative"
    deltas = []
    for (y1, x1), (y2, x2) in pairs_px:
        dy, dx = float(y2 - y1), float(x2 - x1)
        if dy == 0 and dx == 0:
            raise ValueError("the two reflections of a pair are the same point.")
        deltas.append((dy, dx))
    if len(deltas) == 1:
        size = 2 * g / math.hypot(*deltas[0])
        return KCalibration(ky=size, kx=size, units=units, source="bragg")
    if len(deltas) != 2:
        raise ValueError(f"give one or two pairs of reflections (got {len(deltas)}).")
    matrix = np.array([[dy * dy, dx * dx] for dy, dx in deltas])
    rhs = np.full(2, (2 * g) ** 2)
    if abs(np.linalg.det(matrix)) < 1e-6 * float(np.abs(matrix).max()) ** 2:
        raise ValueError(
            "the two pairs of reflections lie along (nearly) the same or mirror-image directions; "
            "they cannot separate k_y from k_x. Pick pairs along different directions (e.g. near y and near x)."
        )
    ky2, kx2 = np.linalg.solve(matrix, rhs)
    if not (ky2 > 0 and kx2 > 0):
        raise ValueError(
            "the two pairs of reflections are inconsistent with one spacing (the solution has a negative "
            "squared pixel size); check that both pairs belong to the same family of reflections."
        )
    return KCalibration(ky=float(math.sqrt(ky2)), kx=float(math.sqrt(kx2)), units=units, source="bragg")


def resolve_k_calibration(
    params: CalibrationParams, *, disk_radius_px: float, picked: KCalibration | None = None
) -> KCalibration:
    """Apply the precedence of :class:`CalibrationParams` (explicit ``pixel_size_ky/kx`` first)."""
    if params.pixel_size_ky is not None and params.pixel_size_kx is not None:
        return KCalibration(ky=params.pixel_size_ky, kx=params.pixel_size_kx, units=params.k_units, source="pixel_size_kyx")
    if picked is not None:
        return picked
    if params.bragg_pairs_px:
        return k_from_bragg_pairs(params.bragg_pairs_px, params.known_spacing_angstrom)
    if params.pixel_size_k is not None:
        return KCalibration(ky=params.pixel_size_k, kx=params.pixel_size_k, units=params.k_units, source="pixel_size_k")
    if params.convergence_angle_mrad is not None:
        if not (disk_radius_px > 0 and math.isfinite(disk_radius_px)):
            raise ValueError(
                "convergence_angle_mrad calibrates k from the bright-field disk radius, but no disk was found; "
                "give pixel_size_k instead."
            )
        size = params.convergence_angle_mrad / disk_radius_px
        return KCalibration(ky=size, kx=size, units="mrad", source="convergence_angle")
    return KCalibration(ky=1.0, kx=1.0, units="relative", source="default")


@attrs.frozen(kw_only=True, eq=False)
class FieldMaps:
    """Projected field maps.

    Attributes
    ----------
    ey, ex
        Field components along the scan y and x axes.
    units
        ``"MV/cm"`` (thickness given), ``"V"`` (projected field ``E t``),
        or, without a beam energy, the (sign-flipped) deflection in the k
        units (``"mrad"``, ``"1/angstrom"``, ``"relative"``).
    deflection_units
        Units of the deflection before conversion.
    """

    ey: NDArray[np.float64]
    ex: NDArray[np.float64]
    units: str
    deflection_units: str

    @property
    def magnitude(self) -> NDArray[np.float64]:
        """``|E|``."""
        return np.hypot(self.ey, self.ex)

    @property
    def angle_rad(self) -> NDArray[np.float64]:
        """``atan2(E_y, E_x)`` in radians (y down: positive is clockwise on screen)."""
        return np.arctan2(self.ey, self.ex)


def field_from_shifts(
    shift_y_px: NDArray[np.floating[Any]],
    shift_x_px: NDArray[np.floating[Any]],
    kcal: KCalibration,
    params: CalibrationParams,
    *,
    field_scale: float,
) -> FieldMaps:
    """Convert CoM shifts (detector pixels, scan-aligned) to field maps; ``E`` opposes the deflection."""
    dy = np.asarray(shift_y_px, dtype=np.float64) * kcal.ky
    dx = np.asarray(shift_x_px, dtype=np.float64) * kcal.kx
    voltage = params.accelerating_voltage_kv
    theta_mrad: float | None = None
    if kcal.units == "mrad":
        theta_mrad = 1.0
    elif kcal.units == "1/angstrom" and voltage is not None:
        theta_mrad = electron_wavelength_angstrom(voltage) * 1e3
    if theta_mrad is not None and voltage is not None:
        volts_per_unit = -pv_over_e_volts(voltage) * theta_mrad * 1e-3
        if params.thickness_nm is not None:
            per_unit = volts_per_unit / (params.thickness_nm * 1e-9) / 1e8  # V/m -> MV/cm
            units = "MV/cm"
        else:
            per_unit, units = volts_per_unit, "V"
    else:
        per_unit, units = -1.0, kcal.units
    scale = per_unit * field_scale
    return FieldMaps(ey=dy * scale, ex=dx * scale, units=units, deflection_units=kcal.units)
