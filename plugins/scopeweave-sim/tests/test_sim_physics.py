"""The simulated microscope against its own ground truth."""

import numpy as np
import pytest
from scopeweave_psf import ZhuangAxis, render_gaussian, zhuang_width
from scopeweave_sim import (
    DriftTerm,
    FocusDrift,
    FrameFault,
    SimAstigmaticCamera,
    SimCameraParams,
    SimXYParams,
    SimXYStage,
    SimZParams,
    SimZStage,
)

from scopeweave.errors import ComponentError


def _moments(image: np.ndarray) -> tuple[float, float, float, float]:
    total = image.sum()
    yy, xx = np.indices(image.shape)
    x0, y0 = (xx * image).sum() / total, (yy * image).sum() / total
    sx = np.sqrt(((xx - x0) ** 2 * image).sum() / total)
    sy = np.sqrt(((yy - y0) ** 2 * image).sum() / total)
    return x0, y0, sx, sy


def test_render_gaussian_integrates_and_centres() -> None:
    image = render_gaussian((41, 41), x_px=20.3, y_px=19.6, sigma_x_px=2.0, sigma_y_px=3.0, photons=1000.0)
    assert image.sum() == pytest.approx(1000.0, rel=1e-6)
    x0, y0, sx, sy = _moments(image)
    assert (x0, y0) == pytest.approx((20.3, 19.6), abs=1e-6)
    # Pixel integration adds the variance of a unit box, 1/12.
    assert (sx, sy) == pytest.approx((np.sqrt(4 + 1 / 12), np.sqrt(9 + 1 / 12)), abs=1e-3)


def test_rotated_render_matches_the_rotated_covariance() -> None:
    theta = np.deg2rad(30)
    image = render_gaussian((61, 61), x_px=30.0, y_px=30.0, sigma_x_px=4.0, sigma_y_px=2.0, photons=1.0,
                            theta_rad=theta, oversample=8)
    assert image.sum() == pytest.approx(1.0, rel=1e-4)
    yy, xx = np.indices(image.shape)
    cov_xy = ((xx - 30) * (yy - 30) * image).sum()
    expected = np.sin(theta) * np.cos(theta) * (16 - 4)
    assert cov_xy == pytest.approx(expected, rel=1e-2)
    unrotated = render_gaussian((61, 61), x_px=30.0, y_px=30.0, sigma_x_px=4.0, sigma_y_px=2.0, photons=1.0)
    np.testing.assert_allclose(render_gaussian((61, 61), x_px=30.0, y_px=30.0, sigma_x_px=4.0, sigma_y_px=2.0,
                                               photons=1.0, theta_rad=1e-12), unrotated, atol=2e-5)


def test_zhuang_width_model() -> None:
    axis = ZhuangAxis(w0_px=1.5, c_um=0.2, d_um=0.4, a=0.1, b=0.05)
    assert axis.width_px(0.2) == pytest.approx(1.5)
    x = (0.6 - 0.2) / 0.4
    assert axis.width_px(0.6) == pytest.approx(1.5 * np.sqrt(1 + x**2 + 0.1 * x**3 + 0.05 * x**4))
    np.testing.assert_allclose(zhuang_width([0.2, 0.6], w0_px=1.5, c_um=0.2, d_um=0.4, a=0.1, b=0.05),
                               axis.width_px([0.2, 0.6]))


@pytest.mark.parametrize("stage_z_um", [99.4, 100.0, 100.5])
def test_frame_widths_follow_the_stage(stage_z_um: float) -> None:
    params = SimCameraParams(photons=1e6, background_photons=0.0, read_noise_e=0.0, offset_adu=0.0,
                             sensor_shape_px=(48, 48))
    z = SimZStage(SimZParams(start_um=stage_z_um))
    with z, SimAstigmaticCamera(params, z_stage=z) as cam:
        frame = cam.snap().astype(float)
        truth = cam.last_truth
    defocus = stage_z_um - params.focus_z_um
    assert truth["z_um"] == pytest.approx(defocus)
    assert truth["sigma_x_px"] == pytest.approx(float(params.psf_x.width_px(defocus)))
    _, _, sx, sy = _moments(frame)
    assert sx == pytest.approx(np.sqrt(truth["sigma_x_px"] ** 2 + 1 / 12), rel=0.02)
    assert sy == pytest.approx(np.sqrt(truth["sigma_y_px"] ** 2 + 1 / 12), rel=0.02)


def test_noise_statistics_offset_gain_and_saturation() -> None:
    params = SimCameraParams(photons=0.0, background_photons=50.0, read_noise_e=2.0, offset_adu=100.0,
                             gain_adu_per_e=2.0, sensor_shape_px=(128, 128), seed=3)
    with SimAstigmaticCamera(params) as cam:
        frame = cam.snap().astype(float)
    assert frame.mean() == pytest.approx(100 + 2 * 50, rel=0.01)
    # Var = gain^2 * (photons + read_noise^2) (+ 1/12 from rounding)
    assert frame.var() == pytest.approx(4 * (50 + 4) + 1 / 12, rel=0.05)
    bright = SimCameraParams(photons=5e7, bit_depth=12)
    with SimAstigmaticCamera(bright) as cam:
        assert cam.snap().max() == 4095


def test_same_seed_same_movie_and_faults() -> None:
    params = SimCameraParams(seed=7, frame_faults=(FrameFault(kind="blank", start_frame=1),
                                                   FrameFault(kind="saturated", start_frame=2),
                                                   FrameFault(kind="dark", start_frame=3)))
    with SimAstigmaticCamera(params) as a, SimAstigmaticCamera(params) as b:
        frames_a = list(a.acquire_sequence(5))
        frames_b = list(b.acquire_sequence(5))
    for fa, fb in zip(frames_a, frames_b, strict=True):
        np.testing.assert_array_equal(fa, fb)
    assert frames_a[1].max() == 0
    assert frames_a[2].min() == 2**16 - 1
    assert frames_a[3].max() < 100 + 10 + 8 * np.sqrt(10)  # background only
    assert frames_a[4].max() > 1000


def test_drift_terms_add_up() -> None:
    drift = FocusDrift((
        DriftTerm(kind="ramp", rate_um_per_min=1.2),
        DriftTerm(kind="sine", amplitude_um=0.3, period_s=4.0),
        DriftTerm(kind="steps", step_times_s=(1.0, 2.0), step_sizes_um=(0.5, -0.2)),
    ))
    assert drift.dz_um(0.0) == pytest.approx(0.0)
    assert drift.dz_um(1.0) == pytest.approx(0.02 + 0.3 + 0.5)
    assert drift.dz_um(3.0) == pytest.approx(0.06 - 0.3 + 0.3)


def test_random_walk_statistics_and_reproducibility() -> None:
    finals = []
    for seed in range(300):
        walk = FocusDrift((DriftTerm(kind="random_walk", sigma_um_per_sqrt_s=0.1, seed=seed),))
        for t in np.arange(1, 101) * 0.04:
            value = walk.dz_um(float(t))
        finals.append(value)
    assert np.std(finals) == pytest.approx(0.1 * np.sqrt(4.0), rel=0.15)
    def walk(seed: int) -> list[float]:
        drift = FocusDrift((DriftTerm(kind="random_walk", sigma_um_per_sqrt_s=0.1, seed=seed),))
        return [drift.dz_um(t) for t in (1.0, 2.0, 2.0, 3.5)]

    assert walk(0) == walk(0)
    assert walk(0) != walk(1)
    assert walk(0)[1] == walk(0)[2]  # the same time gives the same value


def test_invalid_drift_terms() -> None:
    with pytest.raises(ValueError, match="same length"):
        DriftTerm(kind="steps", step_times_s=(1.0,), step_sizes_um=())
    with pytest.raises(ValueError, match="period_s"):
        DriftTerm(kind="sine", period_s=0.0)


def test_drift_moves_the_defocus_with_simulated_time() -> None:
    params = SimCameraParams(exposure_ms=100.0, focus_drift=(DriftTerm(kind="ramp", rate_um_per_min=6.0),))
    z = SimZStage(SimZParams())
    with z, SimAstigmaticCamera(params, z_stage=z) as cam:
        for _ in range(11):
            cam.snap()
        assert cam.last_truth["t_s"] == pytest.approx(1.0)
        assert cam.last_truth["z_um"] == pytest.approx(-0.1)


def test_xy_stage_moves_the_sample_and_lateral_drift() -> None:
    params = SimCameraParams(pixel_size_um=0.1, lateral_drift_um_per_min=(6.0, 0.0), exposure_ms=100.0,
                             beads_xy_um=((3.0, 3.0),))
    xy = SimXYStage(SimXYParams())
    with xy, SimAstigmaticCamera(params, xy_stage=xy) as cam:
        cam.snap()
        assert cam.last_truth["beads_px"][0] == pytest.approx((30.0, 30.0))
        xy.move_to_um((1.0, -0.5))
        for _ in range(10):
            cam.snap()
        # Frame 10 is at t = 1 s: 0.1 um = 1 px of drift; the stage moved the sample by (-10, +5) px.
        assert cam.last_truth["beads_px"][0] == pytest.approx((30.0 - 10.0 + 1.0, 35.0))


def test_xy_systematic_errors() -> None:
    stage = SimXYStage(SimXYParams(scale_x=1.01, scale_y=0.99, skew=0.002, backlash_um=(3.0, 0.0),
                                   thermal_drift_um_per_min=(0.6, 0.0), move_time_s=10.0))
    with stage:
        stage.move_to_um((1000.0, 500.0))
        true = stage.true_position_um()
        assert stage.position_um() == (1000.0, 500.0)
        assert true == pytest.approx((1010.0 + 1.0 + 0.1, 495.0))
        stage.move_to_um((0.0, 500.0))  # reversal in x: the stage lags by the backlash
        assert stage.true_position_um()[0] == pytest.approx(1.0 + 3.0 + 0.2)
        stage.move_to_um((500.0, 500.0))  # reversal back: the lag is gone
        assert stage.true_position_um()[0] == pytest.approx(505.0 + 1.0 + 0.3)


def test_move_noise_is_seeded() -> None:
    def positions(seed: int) -> list[tuple[float, float]]:
        stage = SimXYStage(SimXYParams(move_noise_um=0.5, seed=seed))
        with stage:
            out = []
            for x in (10.0, 20.0, 30.0):
                stage.move_to_um((x, 0.0))
                out.append(stage.true_position_um())
        return out

    assert positions(1) == positions(1)
    assert positions(1) != positions(2)
    errors = np.array(positions(1)) - np.array([[10.0, 0.0], [20.0, 0.0], [30.0, 0.0]])
    assert np.all(np.abs(errors) < 3.0)
    assert np.any(errors != 0)


def test_z_stage_fault_injection() -> None:
    failing = SimZStage(SimZParams(fail_after_moves=2))
    with failing:
        failing.move_to_um((101.0,))
        failing.move_to_um((102.0,))
        with pytest.raises(ComponentError, match="simulated stage fault"):
            failing.move_to_um((103.0,))
        assert failing.position_um() == (102.0,)
    stuck = SimZStage(SimZParams(stuck_after_moves=1))
    with stuck:
        stuck.move_to_um((101.0,))
        stuck.move_to_um((150.0,))
        assert stuck.position_um() == (101.0,)
        assert stuck.history_um == [101.0, 150.0]


def test_params_validation() -> None:
    with pytest.raises(ValueError, match="start_um"):
        SimZParams(limits_um=(0.0, 10.0), start_um=20.0)
    with pytest.raises(ValueError, match="bit_depth"):
        SimCameraParams(bit_depth=20)
