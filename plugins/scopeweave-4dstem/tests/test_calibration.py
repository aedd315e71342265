"""k calibration and field conversion against reference numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scopeweave_4dstem.calibration import (
    KCalibration,
    electron_wavelength_angstrom,
    field_from_shifts,
    k_from_bragg_pairs,
    pv_over_e_volts,
    resolve_k_calibration,
)
from scopeweave_4dstem.params import CalibrationParams


@pytest.mark.parametrize(
    ("kv", "wavelength", "pv_kv"),
    [(60.0, 0.04866, 113.7), (80.0, 0.04176, 149.2), (200.0, 0.02508, 343.7), (300.0, 0.01969, 489.0)],
)
def test_beam_constants_match_the_reference_table(kv: float, wavelength: float, pv_kv: float) -> None:
    assert electron_wavelength_angstrom(kv) == pytest.approx(wavelength, abs=5e-5)
    assert pv_over_e_volts(kv) / 1e3 == pytest.approx(pv_kv, abs=0.05)


def test_one_friedel_pair_gives_an_isotropic_pixel_size() -> None:
    centre = np.array([31.2, 30.7])
    g = np.array([12.0, -16.0])  # |g| = 20 px
    cal = k_from_bragg_pairs([[tuple(centre + g), tuple(centre - g)]], 2.0)
    assert cal.units == "1/angstrom"
    assert cal.ky == pytest.approx(0.5 / 20.0)
    assert cal.kx == pytest.approx(0.5 / 20.0)
    relative = k_from_bragg_pairs([[tuple(centre + g), tuple(centre - g)]], None)
    assert relative.units == "relative"
    assert relative.ky * 20.0 == pytest.approx(1.0)


def test_two_pairs_give_anisotropic_pixel_sizes() -> None:
    ky, kx = 0.021, 0.025  # 1/Å per px
    g_len = 1 / 2.5  # d = 2.5 Å
    points = []
    for angle in (10.0, 75.0):
        gy_px = g_len * math.sin(math.radians(angle)) / ky
        gx_px = g_len * math.cos(math.radians(angle)) / kx
        points.append(((30 + gy_px, 30 + gx_px), (30 - gy_px, 30 - gx_px)))
    cal = k_from_bragg_pairs(points, 2.5)
    assert cal.ky == pytest.approx(ky, rel=1e-9)
    assert cal.kx == pytest.approx(kx, rel=1e-9)


def test_parallel_pairs_are_rejected() -> None:
    with pytest.raises(ValueError, match="same or mirror-image directions"):
        k_from_bragg_pairs([((0, 0), (10, 10)), ((5, 5), (25, 25))], 2.0)


def test_precedence_of_the_calibration_sources() -> None:
    pair = (((10.0, 30.0), (50.0, 30.0)),)  # 40 px apart
    explicit = CalibrationParams(pixel_size_ky=0.1, pixel_size_kx=0.2, k_units="mrad", bragg_pairs_px=pair)
    assert resolve_k_calibration(explicit, disk_radius_px=5.0).source == "pixel_size_kyx"
    bragg = CalibrationParams(bragg_pairs_px=pair, known_spacing_angstrom=2.0, pixel_size_k=9.0)
    assert resolve_k_calibration(bragg, disk_radius_px=5.0).ky == pytest.approx(1.0 / 40.0)
    picked = KCalibration(ky=3.0, kx=3.0, units="relative", source="interactive")
    assert resolve_k_calibration(bragg, disk_radius_px=5.0, picked=picked) is picked
    convergence = CalibrationParams(convergence_angle_mrad=20.0)
    cal = resolve_k_calibration(convergence, disk_radius_px=8.0)
    assert (cal.ky, cal.units, cal.source) == (2.5, "mrad", "convergence_angle")
    assert resolve_k_calibration(CalibrationParams(), disk_radius_px=8.0).source == "default"


def test_field_opposes_the_deflection_with_physical_units() -> None:
    shift = np.array([[1.0]])
    cal = KCalibration(ky=0.01, kx=0.01, units="1/angstrom", source="pixel_size_k")
    projected = field_from_shifts(shift, 2 * shift, cal, CalibrationParams(accelerating_voltage_kv=200.0), field_scale=1.0)
    theta_rad = electron_wavelength_angstrom(200.0) * 0.01
    assert projected.units == "V"
    assert projected.ey[0, 0] == pytest.approx(-pv_over_e_volts(200.0) * theta_rad)
    assert projected.ex[0, 0] == pytest.approx(2 * projected.ey[0, 0])
    # 1 mrad at 200 kV through 10 nm: 343.7 V / 10 nm = 3.437e10 V/m = 343.7 MV/cm.
    mrad = KCalibration(ky=1.0, kx=1.0, units="mrad", source="pixel_size_k")
    thick = field_from_shifts(
        shift, 0 * shift, mrad, CalibrationParams(accelerating_voltage_kv=200.0, thickness_nm=10.0), field_scale=1.0
    )
    assert thick.units == "MV/cm"
    assert thick.ey[0, 0] == pytest.approx(-343.7, abs=0.1)
    relative = field_from_shifts(shift, shift, KCalibration(ky=1, kx=1, units="relative", source="default"),
                                 CalibrationParams(), field_scale=2.0)
    assert relative.units == "relative"
    assert relative.ey[0, 0] == -2.0
    assert relative.angle_rad[0, 0] == pytest.approx(math.atan2(-2.0, -2.0))
