"""Synthetic movies: files, determinism, photometry, noise, motion, blinking, calcium."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from scopeweave_puncta.camera_model import CameraModel
from scopeweave_puncta.ground_truth import read_calcium_events, read_ground_truth
from scopeweave_puncta.psf_models import add_spots
from scopeweave_puncta.sim_params import BlinkingParams, CalciumSimParams, SimulationParams
from scopeweave_puncta.simulate import simulate_dataset, simulate_sample
from scopeweave_puncta.table import nm_to_px


def test_sample_files_and_columns(tmp_path) -> None:
    params = SimulationParams(num_samples=2, frames_per_sample=6, image_size_px=(32, 40), num_puncta_mean=3)
    folders = simulate_dataset(params, tmp_path)
    assert [f.name for f in folders] == ["sample_00000", "sample_00001"]
    names = sorted(p.name for p in folders[0].iterdir())
    assert names == ["calcium.tif", "calcium_events.csv", "ground_truth.csv", "metadata.json", "movie.tif"]
    assert (folders[0] / "ground_truth.csv").read_text().splitlines()[0] == "frame,x_nm,y_nm,photons,id"
    movie = tifffile.imread(folders[0] / "movie.tif")
    assert movie.shape == (6, 32, 40)
    assert movie.dtype == np.uint16
    meta = json.loads((folders[0] / "metadata.json").read_text())
    assert meta["pixel_size_nm"] == 100.0
    assert meta["image_size_px"] == [32, 40]
    truth = read_ground_truth(folders[0] / "ground_truth.csv")
    assert truth.frame.min() >= 0
    assert truth.frame.max() < 6


def test_seeded_and_distinct_per_sample() -> None:
    params = SimulationParams(frames_per_sample=3, image_size_px=(24, 24), num_puncta_mean=4, seed=7)
    a, b = simulate_sample(params, 0), simulate_sample(params, 0)
    np.testing.assert_array_equal(a.movie, b.movie)
    np.testing.assert_array_equal(a.truth.x_nm, b.truth.x_nm)
    assert not np.array_equal(a.movie, simulate_sample(params, 1).movie)


@pytest.mark.parametrize("psf_type", ["gaussian", "airy"])
def test_psf_is_normalised_and_centred(psf_type: str) -> None:
    frame = np.zeros((81, 81))
    add_spots(frame, x_px=np.array([40.3]), y_px=np.array([39.8]), photons=np.array([1000.0]), sigma_px=1.3,
              psf_type=psf_type)
    expected_total = 1000.0 if psf_type == "gaussian" else 950.0  # the Airy tails reach past the 10-sigma patch
    assert frame.sum() == pytest.approx(expected_total, rel=0.04)
    yy, xx = np.mgrid[0:81, 0:81]
    assert (frame * xx).sum() / frame.sum() == pytest.approx(40.3, abs=0.01)
    assert (frame * yy).sum() / frame.sum() == pytest.approx(39.8, abs=0.01)


def test_airy_width_matches_the_gaussian_sigma() -> None:
    frame = np.zeros((61, 61))
    add_spots(frame, x_px=np.array([30.0]), y_px=np.array([30.0]), photons=np.array([1.0]), sigma_px=2.0,
              psf_type="airy")
    gauss = np.zeros_like(frame)
    add_spots(gauss, x_px=np.array([30.0]), y_px=np.array([30.0]), photons=np.array([1.0]), sigma_px=2.0,
              psf_type="gaussian")
    assert frame[30, 30] == pytest.approx(gauss[30, 30], rel=0.2)  # the rings take some of the peak


def test_photometry_matches_ground_truth() -> None:
    params = SimulationParams(frames_per_sample=20, image_size_px=(64, 64), num_puncta_mean=6, seed=3,
                              calcium=CalciumSimParams(enabled=False), mobile_fraction=0.0)
    sample = simulate_sample(params, 0)
    camera = params.camera
    signal = camera.to_photons(sample.movie).sum(axis=(1, 2)) - params.background_photons * 64 * 64
    expected = np.bincount(sample.truth.frame, weights=sample.truth.photons, minlength=20)
    # Spots are whole (not cut by the border) for most puncta; allow the clipped ones.
    assert np.sum(signal) == pytest.approx(np.sum(expected), rel=0.05)


def test_camera_noise_levels() -> None:
    rng = np.random.default_rng(0)
    flat = np.full((200, 200), 50.0)
    plain = CameraModel(baseline_adu=100, e_per_adu=2.0, read_noise_e=3.0).expose(flat, rng).astype(float)
    assert plain.mean() == pytest.approx(100 + 50 / 2, abs=0.1)
    assert plain.var() == pytest.approx((50 + 9) / 4 + 1 / 12, rel=0.05)
    em = CameraModel(baseline_adu=100, e_per_adu=20.0, em_gain=100.0, read_noise_e=10.0)
    photons = em.to_photons(em.expose(flat, rng))
    assert photons.mean() == pytest.approx(50, rel=0.02)
    assert photons.var() / 50 == pytest.approx(2.0, rel=0.1)  # EMCCD excess-noise factor


def test_mobile_puncta_diffuse_and_immobile_ones_stay() -> None:
    params = SimulationParams(frames_per_sample=40, image_size_px=(256, 256), num_puncta_mean=40, seed=5,
                              diffusion_um2_s=0.05, blinking=BlinkingParams(p_off_per_frame=0.0),
                              calcium=CalciumSimParams(enabled=False))
    sample = simulate_sample(params, 0)
    mobile = sample.puncta["mobile"]
    truth = sample.truth
    steps = {True: [], False: []}
    for pid in np.unique(truth.id):
        rows = truth.id == pid
        d2 = np.diff(truth.x_nm[rows]) ** 2 + np.diff(truth.y_nm[rows]) ** 2
        steps[bool(mobile[pid])].append(d2)
    immobile = np.concatenate(steps[False])
    assert np.all(immobile == 0)
    msd_nm2 = np.mean(np.concatenate(steps[True]))
    d_mean = np.mean(sample.puncta["diffusion_um2_s"][mobile])
    assert msd_nm2 == pytest.approx(4 * d_mean * 1e6 * 0.05, rel=0.15)


def test_blinking_reaches_its_stationary_on_fraction() -> None:
    params = SimulationParams(frames_per_sample=400, image_size_px=(32, 32), num_puncta_mean=30, seed=2,
                              blinking=BlinkingParams(p_off_per_frame=0.2, p_on_per_frame=0.3),
                              calcium=CalciumSimParams(enabled=False))
    sample = simulate_sample(params, 0)
    on_fraction = len(sample.truth) / (len(sample.puncta["id"]) * 400)
    assert on_fraction == pytest.approx(0.3 / 0.5, abs=0.04)


def test_calcium_events_sit_at_puncta_or_far_from_them(tmp_path) -> None:
    params = SimulationParams(frames_per_sample=60, image_size_px=(64, 64), num_puncta_mean=8, seed=4,
                              calcium=CalciumSimParams(event_rate_hz=2.0, background_rate_hz_per_um2=0.05))
    sample = simulate_sample(params, 0)
    events = sample.calcium_events
    assert np.any(events.punctum_id >= 0)
    assert np.any(events.punctum_id < 0)
    assert sample.calcium is not None
    assert sample.calcium.shape == sample.movie.shape
    # ΔF/F0 at an event's centre, right at onset, is its amplitude (baseline 100 ADU, F0 200 photons).
    first = int(np.argmax(events.punctum_id >= 0))
    x = round(float(nm_to_px(events.x_nm[first], 100.0)))
    y = round(float(nm_to_px(events.y_nm[first], 100.0)))
    assert sample.calcium[events.frame[first], y, x] > 300  # well above F0 + baseline
    folder = tmp_path / "s"
    from scopeweave_puncta.simulate import write_sample

    write_sample(sample, folder)
    back = read_calcium_events(folder / "calcium_events.csv")
    np.testing.assert_array_equal(back.punctum_id, events.punctum_id)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="psf_type"):
        SimulationParams(psf_type="spline")
    with pytest.raises(ValueError, match="image_size_px"):
        SimulationParams(image_size_px=(4, 4))
    with pytest.raises(ValueError, match="em_gain"):
        CameraModel(em_gain=0.5)


def test_integer_background_from_python_is_accepted() -> None:
    params = SimulationParams(background_photons=8, frames_per_sample=2, image_size_px=(16, 16), num_puncta_mean=1)
    sample = simulate_sample(params, 0)
    assert sample.movie.shape[0] == 2
