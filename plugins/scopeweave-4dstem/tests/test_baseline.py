"""Baselines remove what they promise and nothing else."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_4dstem.baseline import subtract_baseline

from scopeweave.errors import ScopeweaveError


def _plane(shape: tuple[int, int], a: float, b: float, c: float) -> np.ndarray:
    rows, cols = np.indices(shape, dtype=float)
    return a + b * rows + c * cols


def test_plane_removes_descan_exactly() -> None:
    rng = np.random.default_rng(0)
    signal_y, signal_x = rng.normal(0, 0.1, (2, 15, 18))
    y = signal_y + _plane((15, 18), 3.0, 0.05, -0.02)
    x = signal_x + _plane((15, 18), -1.0, 0.01, 0.04)
    out_y, out_x, info = subtract_baseline(y, x, mode="plane")
    truth_y, truth_x, _ = subtract_baseline(signal_y, signal_x, mode="plane")
    np.testing.assert_allclose(out_y, truth_y, atol=1e-12)
    np.testing.assert_allclose(out_x, truth_x, atol=1e-12)
    regression = np.array(info["regression"])
    assert regression.shape == (3, 2)
    assert abs(regression[1, 0] - 0.05) < 0.01
    assert abs(regression[2, 1] - 0.04) < 0.01


def test_robust_plane_ignores_outliers() -> None:
    y = _plane((20, 20), 1.0, 0.1, 0.2)
    x = _plane((20, 20), -2.0, -0.1, 0.05)
    y_bad, x_bad = y.copy(), x.copy()
    y_bad[5:8, 5:8] += 30.0
    plain, _, _ = subtract_baseline(y_bad, x_bad, mode="plane")
    robust, robust_x, info = subtract_baseline(y_bad, x_bad, mode="plane", robust_steps=3, robust_thresh=2.0)
    clean = np.ones_like(y, dtype=bool)
    clean[5:8, 5:8] = False
    assert np.max(np.abs(robust[clean])) < 1e-9
    assert np.max(np.abs(robust_x)) < 1e-9
    assert np.max(np.abs(plain[clean])) > 0.1
    assert info["n_positions_used"] == 400 - 9


def test_median_rowcol_and_roi() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(0, 1, (10, 12)) + 5.0
    x = rng.normal(0, 1, (10, 12)) - 2.0
    my, mx, info = subtract_baseline(y, x, mode="median")
    assert abs(np.median(my)) < 1e-12
    assert abs(np.median(mx)) < 1e-12
    assert info["offset_yx_px"] == pytest.approx([np.median(y), np.median(x)])
    ry, _, _ = subtract_baseline(y + np.arange(10)[:, None] * 3.0, x, mode="rowcol")
    ry_ref, _, _ = subtract_baseline(y, x, mode="rowcol")
    np.testing.assert_allclose(ry, ry_ref, atol=1e-12)  # a row-wise drift is removed exactly
    np.testing.assert_allclose(np.median(ry_ref, axis=0), 0.0, atol=1e-12)
    oy, ox, _ = subtract_baseline(y, x, mode="roi", roi_px=(0, 3, 0, 4))
    assert abs(oy[0:3, 0:4].mean()) < 1e-12
    assert abs(ox[0:3, 0:4].mean()) < 1e-12


def test_roi_without_data_and_unknown_mode_are_errors() -> None:
    y = np.full((4, 4), np.nan)
    y[3, 3] = 1.0
    with pytest.raises(ScopeweaveError, match="baseline_roi_px"):
        subtract_baseline(y, y, mode="roi", roi_px=(0, 2, 0, 2))
    with pytest.raises(ScopeweaveError, match="unknown baseline"):
        subtract_baseline(y, y, mode="tilt")
