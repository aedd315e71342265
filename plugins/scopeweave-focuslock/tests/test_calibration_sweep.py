"""The calibration sweep on the simulated microscope: parameters, fallbacks and the quality gates."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from scopeweave_focuslock.calibration import CSV_COLUMNS, build_calibration
from scopeweave_focuslock.models import PiecewiseFocusModel, ZhuangFocusModel
from scopeweave_focuslock.params import GateThresholds
from scopeweave_focuslock.spotfit import FALLBACK, measure_spots
from scopeweave_sim import FrameFault, SimCameraParams

TRUE = SimCameraParams()


def _gate(calibration, name):
    return next(g for g in calibration.gates if g.name == name)


def test_sweep_recovers_the_true_zhuang_parameters(sweep_sim) -> None:
    calibration, raw, stage, _ = sweep_sim()
    model = calibration.model
    assert calibration.armable, calibration.summary()
    for fit, truth in ((model.psf_x, TRUE.psf_x), (model.psf_y, TRUE.psf_y)):
        assert fit.w0_px == pytest.approx(truth.w0_px, abs=0.03)
        assert fit.c_um == pytest.approx(truth.c_um, abs=0.015)
        assert fit.d_um == pytest.approx(truth.d_um, abs=0.02)
        grid = np.linspace(-0.6, 0.6, 61)
        np.testing.assert_allclose(fit.width_px(grid), truth.width_px(grid), atol=0.03)
    assert model.focus_um == pytest.approx(0.0, abs=0.01)
    assert calibration.theta_rad == 0.0
    assert calibration.metadata["theta"]["snapped"]
    # Acquisition first, then back to the start.
    assert stage.position_um()[0] == pytest.approx(100.0)
    assert stage.history_um[-1] == pytest.approx(100.0)
    assert len(stage.history_um) == 41 + 1
    np.testing.assert_allclose(np.unique(raw.stage_z_um), 100.0 + np.linspace(-0.8, 0.8, 41))
    assert calibration.samples.parametric.all()
    assert [name for name, _ in CSV_COLUMNS][:8] == [
        "z_um", "sigma_x_px", "sigma_y_px", "theta_rad", "amplitude", "background", "fit_quality", "sample_class"]


def test_calibrated_single_frame_z_is_unbiased(sweep_sim) -> None:
    calibration, _, stage, camera = sweep_sim(frames_per_step=2, camera={"photons": 1e4})
    for z in (-0.15, 0.0, 0.15):
        stage.move_to_um((100.0 + z,))
        frames = np.stack([camera.counts_to_photons(camera.snap())[5:26, 5:26] for _ in range(60)])
        spots = measure_spots(frames, theta_rad=calibration.theta_rad, readout_variance=1.5**2 + 1 / 12)
        estimate = calibration.z_from_fit(spots)
        assert estimate.in_domain.all()
        assert abs(np.mean(estimate.z_um) - z) < 0.005


def test_rotated_optics_two_pass_theta(sweep_sim) -> None:
    calibration, _, _, _ = sweep_sim(camera={"theta_rad": 0.25}, n_steps=21)
    theta = calibration.metadata["theta"]
    assert not theta["snapped"]
    assert calibration.theta_rad == pytest.approx(0.25, abs=0.01)
    assert (calibration.samples.theta_rad == calibration.theta_rad).all()
    assert calibration.armable, calibration.summary()
    assert calibration.model.psf_x.c_um == pytest.approx(0.2, abs=0.02)


def test_fallback_samples_never_enter_the_model_fit(sweep_sim) -> None:
    # Three dark frames (the bead vanishes) in the middle of the sweep; frame 0 finds the ROI.
    calibration, _, _, _ = sweep_sim(camera={"frame_faults": (FrameFault(kind="dark", start_frame=15, n_frames=3),)})
    s = calibration.samples
    fallback = s.sample_class == FALLBACK
    assert fallback.sum() == 3
    assert set(s.reason[fallback]) == {"low_signal"}
    assert not s.in_model_fit[fallback].any()
    # Whatever the fallback rows hold, the model is the same.
    garbage = attrs.evolve(s, sigma_x_px=np.where(fallback, 9.0, s.sigma_x_px),
                           sigma_y_px=np.where(fallback, 0.3, s.sigma_y_px))
    again = build_calibration(garbage, model=ZhuangFocusModel(), theta_rad=0.0, pixel_size_nm=100.0)
    assert again.model.to_dict() == calibration.model.to_dict()
    assert calibration.armable
    assert "low_signal 3" in _gate(calibration, "parametric_samples").message


def test_gate_rejects_a_psf_clipped_by_the_roi(sweep_sim) -> None:
    calibration, _, _, _ = sweep_sim(roi_size_px=9)
    gate = _gate(calibration, "roi_clipping")
    assert not gate.passed
    assert gate.value > 0.1
    assert "touch the ROI border" in gate.message
    assert "enlarge the ROI" in gate.message
    assert not calibration.armable


def test_gate_rejects_a_sweep_not_centred_on_focus(sweep_sim) -> None:
    off, _, _, _ = sweep_sim(stage={"start_um": 100.7})
    gate = _gate(off, "usable_range")
    assert not gate.passed
    assert "centre the sweep on focus" in gate.message
    assert off.model.focus_um == pytest.approx(-0.7, abs=0.02)
    missed, _, _, _ = sweep_sim(stage={"start_um": 101.2})
    assert missed.model is None
    assert [g.name for g in missed.gates] == ["model_fit", "parametric_samples", "roi_clipping"]
    assert "does not cross focus" in missed.gates[0].message
    assert not missed.armable


def test_gates_reject_a_low_snr_sweep(sweep_sim) -> None:
    calibration, _, _, _ = sweep_sim(camera={"photons": 300.0, "background_photons": 20.0})
    failed = {g.name: g for g in calibration.failed_gates}
    assert not calibration.armable
    assert "residual_rms" in failed or "parametric_samples" in failed or "model_fit" in failed, calibration.summary()
    for gate in calibration.failed_gates:
        assert gate.message.startswith(f"{gate.name}: FAILED: ")
        assert any(ch.isdigit() for ch in gate.message)


def test_expected_slope_is_checked(sweep_sim) -> None:
    calibration, _, _, _ = sweep_sim(expected_slope="positive", n_steps=21)
    gate = _gate(calibration, "sign_consistency")
    assert not gate.passed
    assert "positive was expected" in gate.message
    right, _, _, _ = sweep_sim(expected_slope="negative", n_steps=21)
    assert _gate(right, "sign_consistency").passed


def test_thresholds_are_honoured(sweep_sim) -> None:
    calibration, _, _, _ = sweep_sim(n_steps=21, gates=GateThresholds(max_residual_rms_nm=0.5,
                                                                       min_parametric_samples=30))
    failed = {g.name for g in calibration.failed_gates}
    assert failed == {"residual_rms", "parametric_samples"}


def test_other_models_calibrate_on_the_simulator(sweep_sim) -> None:
    calibration, _, _, _ = sweep_sim(model=PiecewiseFocusModel(), n_steps=31)
    assert calibration.model_name == "piecewise"
    assert calibration.armable, calibration.summary()
    low, high = calibration.usable_range_um
    assert low < -0.2
    assert high > 0.2
