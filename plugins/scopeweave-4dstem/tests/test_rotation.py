"""Scan rotation / flip: the estimator recovers known transforms of a curl-free field."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_4dstem.baseline import subtract_baseline
from scopeweave_4dstem.engine import analyse
from scopeweave_4dstem.params import ComputeParams, DpcParams, PolarSettings, SyntheticParams
from scopeweave_4dstem.rotation import apply_rotation, curl_divergence, estimate_rotation
from scopeweave_4dstem.source import ArraySource
from scopeweave_4dstem.synthetic import synthesize_array


def _atom_field(shape: tuple[int, int] = (40, 44)) -> tuple[np.ndarray, np.ndarray]:
    """CoM field of atom columns: points towards each column (negative divergence at the atoms)."""
    rows, cols = np.indices(shape, dtype=float)
    potential = np.zeros(shape)
    for cy in range(4, shape[0], 8):
        for cx in range(5, shape[1], 9):
            potential += np.exp(-((rows - cy) ** 2 + (cols - cx) ** 2) / (2 * 1.8**2))
    gy, gx = np.gradient(potential)
    return gy, gx


def _detector_view(fy: np.ndarray, fx: np.ndarray, angle: float, flip: bool) -> tuple[np.ndarray, np.ndarray]:
    """What a detector rotated by ``angle`` (and flipped) records of the scan-frame field."""
    y, x = apply_rotation(fy, fx, -angle, False)
    return (-y if flip else y), x


@pytest.mark.parametrize(("angle", "flip"), [(0.0, False), (37.0, False), (123.5, True), (250.0, False), (301.0, True)])
def test_known_rotation_and_flip_are_recovered(angle: float, flip: bool) -> None:
    fy, fx = _atom_field()
    dy, dx = _detector_view(fy, fx, angle, flip)
    estimate = estimate_rotation(dy, dx, divergence_sign="negative")
    error = (estimate.angle_deg - angle + 180) % 360 - 180
    assert abs(error) < 0.01
    assert estimate.flip_y is flip
    assert estimate.rms_curl_ratio < 1e-6
    corrected = apply_rotation(dy, dx, estimate.angle_deg, estimate.flip_y)
    np.testing.assert_allclose(corrected[0], fy, atol=1e-9)
    np.testing.assert_allclose(corrected[1], fx, atol=1e-9)


def test_divergence_sign_settles_the_180_degree_ambiguity() -> None:
    fy, fx = _atom_field()
    dy, dx = _detector_view(fy, fx, 60.0, False)
    converging = estimate_rotation(dy, dx, divergence_sign="negative")
    diverging = estimate_rotation(dy, dx, divergence_sign="positive")
    assert abs((converging.angle_deg - 60.0 + 180) % 360 - 180) < 0.01
    assert abs((diverging.angle_deg - 240.0 + 180) % 360 - 180) < 0.01
    assert converging.divergence_skew < 0 < diverging.divergence_skew


def test_curl_of_a_gradient_is_zero_and_rotation_mixes_it_with_divergence() -> None:
    fy, fx = _atom_field((20, 24))
    curl, div = curl_divergence(fy, fx)
    assert np.max(np.abs(curl)) < 1e-12
    ry, rx = apply_rotation(fy, fx, 30.0, False)
    rotated_curl, _ = curl_divergence(ry, rx)
    np.testing.assert_allclose(rotated_curl, np.sin(np.radians(30.0)) * div, atol=1e-12)


def test_pipeline_estimates_and_applies_the_scan_rotation() -> None:
    params = SyntheticParams(
        scan_shape=(20, 24), detector_shape_px=(32, 32), n_clusters=1, bragg_intensity=0.0, background=0.0,
        n_charges=12, field_px=0.5, scan_rotation_deg=72.0, flip_y=True, descan_slope_px=0.02, seed=4,
    )
    data, truth = synthesize_array(params)
    settings = PolarSettings(
        dpc=DpcParams(gate_mode="roi", roi_px=(0.0, 14.0), baseline="plane", estimate_rotation=True)
    )
    result = analyse(ArraySource(data), None, settings, ComputeParams(scheduler="synchronous"))
    assert result.rotation["estimated"] is True
    assert abs((result.rotation["angle_deg"] - 72.0 + 180) % 360 - 180) < 1.0
    assert result.rotation["flip_y"] is True
    # After rotation the shifts are the true field (less its plane, which the baseline also takes).
    expected_y, expected_x, _ = subtract_baseline(truth.field_y, truth.field_x, mode="plane")
    assert np.max(np.abs(result.shift_y - expected_y)) < 0.01
    assert np.max(np.abs(result.shift_x - expected_x)) < 0.01
