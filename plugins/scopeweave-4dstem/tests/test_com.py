"""Gated CoM with known answers: shifted disks, single lit pixels, empty frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scopeweave_4dstem.baseline import subtract_baseline
from scopeweave_4dstem.engine import AnalysisWarning, analyse
from scopeweave_4dstem.kernel import com_columns, com_from_moments
from scopeweave_4dstem.params import (
    CalibrationParams,
    ComputeParams,
    DpcParams,
    PolarSettings,
    SyntheticParams,
)
from scopeweave_4dstem.source import ArraySource, Hdf5Source
from scopeweave_4dstem.synthetic import synthesize_array, write_hdf5

MakeParams = Callable[..., SyntheticParams]


@pytest.mark.parametrize("baseline", ["plane", "median", "rowcol"])
def test_streamed_com_recovers_known_shifts_after_baseline(
    tmp_path: Path, make_disk_params: MakeParams, baseline: str
) -> None:
    path = tmp_path / "disk.h5"
    truth = write_hdf5(path, make_disk_params(chunk_rows=3, seed=7))
    settings = PolarSettings(dpc=DpcParams(gate_mode="roi", roi_px=(0.0, 13.0), baseline=baseline))
    result = analyse(Hdf5Source.open(path), None, settings, ComputeParams(block_mib=0.01, n_workers=2))
    expected_y, expected_x, _ = subtract_baseline(truth.shift_y, truth.shift_x, mode=baseline)
    # The truth holds a real descan plane and field: the estimate must track them, not just be flat.
    assert np.ptp(expected_y) > 0.1
    assert np.max(np.abs(result.shift_y - expected_y)) < 0.01
    assert np.max(np.abs(result.shift_x - expected_x)) < 0.01
    assert result.throughput["n_blocks"] > 1


def test_raw_com_is_shift_plus_centre_offset(make_disk_params: MakeParams) -> None:
    params = make_disk_params(centre_offset_px=(1.25, -0.75))
    data, truth = synthesize_array(params)
    centre = CalibrationParams(center_y_px=15.5, center_x_px=15.5)
    settings = PolarSettings(dpc=DpcParams(gate_mode="roi", roi_px=(0.0, 13.0), baseline="none"), calibration=centre)
    result = analyse(ArraySource(data), None, settings, ComputeParams(scheduler="synchronous"))
    np.testing.assert_allclose(result.com_y, truth.shift_y + 1.25, atol=1e-4)
    np.testing.assert_allclose(result.com_x, truth.shift_x - 0.75, atol=1e-4)
    assert result.centre.source == "given"


def test_auto_centre_is_used_by_the_com(make_disk_params: MakeParams) -> None:
    params = make_disk_params(field_px=0.0, descan_slope_px=0.0, centre_offset_px=(0.37, -0.21))
    data, truth = synthesize_array(params)
    settings = PolarSettings(dpc=DpcParams(gate_mode="roi", roi_px=(0.0, 13.0), baseline="none"))
    result = analyse(ArraySource(data), None, settings, ComputeParams(scheduler="synchronous"))
    assert abs(result.centre.y_px - truth.centre_yx[0]) < 0.02
    assert abs(result.centre.x_px - truth.centre_yx[1]) < 0.02
    assert abs(result.centre.radius_px - params.disk_radius_px) < 0.3
    # An unshifted disk has zero CoM about the detected centre.
    assert np.max(np.abs(result.com_y)) < 0.02
    assert np.max(np.abs(result.com_x)) < 0.02


@pytest.mark.parametrize("position", [(3, 17), (20, 9), (14, 14)])
def test_single_lit_pixel_has_exact_com(position: tuple[int, int]) -> None:
    data = np.zeros((3, 4, 28, 28), dtype=np.float32)
    data[:, :, position[0], position[1]] = 7.0
    data[1, 2] = 0.0
    data[1, 2, 5, 6] = 3.0
    centre = CalibrationParams(center_y_px=13.5, center_x_px=13.5)
    settings = PolarSettings(dpc=DpcParams(gate_mode="roi", baseline="none"), calibration=centre)
    result = analyse(ArraySource(data), None, settings, ComputeParams(scheduler="synchronous"))
    expected_y = np.full((3, 4), position[0] - 13.5)
    expected_x = np.full((3, 4), position[1] - 13.5)
    expected_y[1, 2], expected_x[1, 2] = 5 - 13.5, 6 - 13.5
    np.testing.assert_array_equal(result.com_y, expected_y)
    np.testing.assert_array_equal(result.com_x, expected_x)


def test_gated_com_of_a_lit_pixel_inside_and_outside_the_gate() -> None:
    gates = np.zeros((2, 9, 9), dtype=np.float32)
    gates[0, 1:4, 1:4] = 1.0
    gates[1, 5:8, 5:8] = 0.5
    columns = com_columns(gates, (4.0, 4.0))
    frames = np.zeros((2, 81), dtype=np.float32)
    frames[0, 2 * 9 + 3] = 5.0  # (2, 3): inside gate 0 only
    frames[1, 6 * 9 + 6] = 2.0  # (6, 6): inside gate 1 only
    moments = frames @ columns
    y, x = com_from_moments(moments, np.array([0, 1]))
    assert (y[0], x[0]) == (2 - 4.0, 3 - 4.0)
    assert (y[1], x[1]) == (6 - 4.0, 6 - 4.0)
    y, x = com_from_moments(moments, np.array([1, 0]))  # the other gate sees nothing
    assert np.isnan(y).all()
    assert np.isnan(x).all()


def test_empty_frames_give_nan_and_a_warning_without_disturbing_the_rest(make_disk_params: MakeParams) -> None:
    params = make_disk_params(empty_fraction=0.15, seed=11)
    data, truth = synthesize_array(params)
    assert truth.empty.sum() > 5
    settings = PolarSettings(dpc=DpcParams(gate_mode="roi", roi_px=(0.0, 13.0), baseline="plane"))
    with pytest.warns(AnalysisWarning, match="no gated intensity"):
        result = analyse(ArraySource(data), None, settings, ComputeParams(scheduler="synchronous"))
    assert result.n_empty == int(truth.empty.sum())
    np.testing.assert_array_equal(np.isnan(result.com_y), truth.empty)
    np.testing.assert_array_equal(np.isnan(result.field.ex), truth.empty)
    # The plane fit ignores empty positions: the others still match the truth.
    masked_y = np.where(truth.empty, np.nan, truth.shift_y)
    masked_x = np.where(truth.empty, np.nan, truth.shift_x)
    expected_y, expected_x, _ = subtract_baseline(masked_y, masked_x, mode="plane")
    ok = ~truth.empty
    assert np.max(np.abs(result.shift_y[ok] - expected_y[ok])) < 0.01
    assert np.max(np.abs(result.shift_x[ok] - expected_x[ok])) < 0.01


def test_all_empty_frames_are_a_clear_error() -> None:
    data = np.zeros((3, 3, 16, 16), dtype=np.float32)
    settings = PolarSettings(
        dpc=DpcParams(gate_mode="roi"), calibration=CalibrationParams(center_y_px=7.5, center_x_px=7.5)
    )
    with pytest.raises(Exception, match="no pattern has gated intensity"):
        analyse(ArraySource(data), None, settings, ComputeParams(scheduler="synchronous"))


def test_uint16_and_float32_give_the_same_com(make_disk_params: MakeParams) -> None:
    counts, _ = synthesize_array(make_disk_params(dtype="uint16", disk_intensity=1000.0))
    settings = PolarSettings(dpc=DpcParams(gate_mode="roi", roi_px=(0.0, 13.0), baseline="none"))
    compute = ComputeParams(scheduler="synchronous")
    a = analyse(ArraySource(counts), None, settings, compute)
    b = analyse(ArraySource(counts.astype(np.float32)), None, settings, compute)
    np.testing.assert_allclose(a.com_y, b.com_y, atol=1e-5)
    np.testing.assert_allclose(a.com_x, b.com_x, atol=1e-5)
