"""gauss-mle and gauss-lsq on synthetic movies with known positions."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_puncta.camera_model import CameraModel
from scopeweave_puncta.detect import DetectionParams, detect_frame
from scopeweave_puncta.evaluate import evaluate_localizations
from scopeweave_puncta.localizers import GaussFitLocalizer, GaussFitParams
from scopeweave_puncta.sim_params import CalciumSimParams, SimulationParams
from scopeweave_puncta.simulate import simulate_sample
from scopeweave_puncta.table import LOCALIZATION_COLUMNS, px_to_nm

from scopeweave.testing import LocalizerContract

PIXEL_NM = 100.0
SIGMA_PX = 1.3


class TestGaussMleContract(LocalizerContract):
    @pytest.fixture
    def localizer(self) -> GaussFitLocalizer:
        return GaussFitLocalizer(GaussFitParams(), method="mle")


class TestGaussLsqContract(LocalizerContract):
    @pytest.fixture
    def localizer(self) -> GaussFitLocalizer:
        return GaussFitLocalizer(GaussFitParams(), method="lsq")


def _errors_over_uncertainty(method: str, photons: float, isolated_spots, camera: CameraModel | None = None
                             ) -> tuple[float, float]:
    camera = camera or CameraModel(read_noise_e=0.0)
    movie, frame, x_px, y_px = isolated_spots(photons=photons, background=10.0, sigma_px=SIGMA_PX, n_frames=12,
                                              spacing_px=12, grid=6, seed=int(photons) + len(method), camera=camera)
    localizer = GaussFitLocalizer(GaussFitParams(psf_sigma_nm=SIGMA_PX * PIXEL_NM, camera=camera), method=method)
    table = localizer.localize_table(movie, pixel_size_nm=PIXEL_NM)
    from scopeweave_puncta.ground_truth import GroundTruth

    truth = GroundTruth(frame=frame, x_nm=px_to_nm(x_px, PIXEL_NM), y_nm=px_to_nm(y_px, PIXEL_NM),
                        photons=np.full(len(frame), photons), id=np.arange(len(frame)))
    result = evaluate_localizations(table, truth, tolerance_nm=300.0)
    assert result.overall.recall == 1.0
    assert result.overall.precision == 1.0
    per_axis_rmse = np.sqrt(0.5 * (result.overall.rmse_x_nm**2 + result.overall.rmse_y_nm**2))
    return per_axis_rmse / float(np.median(table.uncertainty_nm)), per_axis_rmse


@pytest.mark.parametrize("photons", [1e3, 1e4])
def test_mle_reaches_the_crlb(photons: float, isolated_spots) -> None:
    ratio, _ = _errors_over_uncertainty("mle", photons, isolated_spots)
    assert 0.9 <= ratio <= 1.1


@pytest.mark.parametrize("photons", [1e3, 1e4])
def test_lsq_within_its_mortensen_bound(photons: float, isolated_spots) -> None:
    ratio, _ = _errors_over_uncertainty("lsq", photons, isolated_spots)
    assert ratio <= 1.1


def test_emccd_uncertainty_includes_excess_noise(isolated_spots) -> None:
    camera = CameraModel(em_gain=100.0, e_per_adu=20.0, read_noise_e=20.0)
    ratio, rmse = _errors_over_uncertainty("mle", 2000.0, isolated_spots, camera=camera)
    assert 0.85 <= ratio <= 1.15
    _, rmse_plain = _errors_over_uncertainty("mle", 2000.0, isolated_spots)
    assert rmse > 1.25 * rmse_plain  # the EM register really costs about sqrt(2)


@pytest.mark.parametrize(("method", "detection"), [("mle", "wavelet"), ("lsq", "dog")])
def test_jaccard_at_low_density(method: str, detection: str) -> None:
    params = SimulationParams(frames_per_sample=30, image_size_px=(128, 128), num_puncta_mean=12, seed=11,
                              calcium=CalciumSimParams(enabled=False))
    sample = simulate_sample(params, 0)
    localizer = GaussFitLocalizer(GaussFitParams(detection=DetectionParams(filter=detection)), method=method)
    table = localizer.localize_table(sample.movie, pixel_size_nm=params.pixel_size_nm)
    overall = evaluate_localizations(table, sample.truth, n_frames=30).overall
    assert overall.n_true > 150
    assert overall.jaccard >= 0.9


def test_empty_frames_give_an_empty_table() -> None:
    rng = np.random.default_rng(0)
    movie = CameraModel().expose(np.full((4, 40, 40), 10.0), rng)
    for method in ("mle", "lsq"):
        columns = GaussFitLocalizer(GaussFitParams(), method=method).localize(movie, pixel_size_nm=PIXEL_NM)
        assert list(columns) == list(LOCALIZATION_COLUMNS)
        assert all(len(v) == 0 for v in columns.values())


def test_detection_threshold_controls_false_positives() -> None:
    rng = np.random.default_rng(3)
    noise = rng.poisson(10.0, (30, 128, 128)).astype(float)
    for name in ("wavelet", "dog"):
        found = sum(len(detect_frame(f, DetectionParams(filter=name, threshold_factor=4.0))[0]) for f in noise)
        strict = sum(len(detect_frame(f, DetectionParams(filter=name, threshold_factor=6.0))[0]) for f in noise)
        assert found / len(noise) < 5  # a handful of noise maxima per 16k pixels
        assert strict <= found // 10


def test_fixed_sigma_mle_and_frame_offsets(isolated_spots) -> None:
    movie, *_ = isolated_spots(photons=3000.0, background=10.0, sigma_px=SIGMA_PX, n_frames=3,
                                           spacing_px=12, grid=3, seed=5, camera=CameraModel(read_noise_e=0.0))
    params = GaussFitParams(fit_sigma=False, chunk_frames=2, camera=CameraModel(read_noise_e=0.0))
    table = GaussFitLocalizer(params, method="mle").localize_table(movie, pixel_size_nm=PIXEL_NM)
    np.testing.assert_array_equal(np.bincount(table.frame), [9, 9, 9])  # chunks keep global frame numbers
    np.testing.assert_allclose(table.sigma_nm, SIGMA_PX * PIXEL_NM)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="sigma_range"):
        GaussFitParams(sigma_range=(1.5, 2.0))
    with pytest.raises(ValueError, match="filter"):
        DetectionParams(filter="median")
    with pytest.raises(ValueError, match="method"):
        GaussFitLocalizer(GaussFitParams(), method="gpu")  # type: ignore[arg-type]
