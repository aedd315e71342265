"""Training samples: simulated on the fly (deterministic, consistent with their truth) and from ThunderSTORM tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import tifffile
from scopeweave_puncta.deep.params import ModelConfig, SyntheticLevel, ThunderstormSource, TrainingSimulation
from scopeweave_puncta.deep.training_data import (
    STREAM_VALIDATION,
    SyntheticSampler,
    ThunderstormSampler,
    calcium_label_map,
)
from scopeweave_puncta.localization_io import write_thunderstorm_csv
from scopeweave_puncta.sim_params import SimulationParams
from scopeweave_puncta.simulate import simulate_sample
from scopeweave_puncta.table import LocalizationTable

MODEL = ModelConfig(base_channels=4, depth=2)
EASY = SyntheticLevel(density_per_um2=(0.3, 0.6), photons_mean=(2000.0, 4000.0), background_photons=(5.0, 10.0),
                      psf_sigma_nm=(130.0, 130.0), calcium_event_rate_hz=(2.0, 4.0))


def _sampler(**kwargs) -> SyntheticSampler:
    settings: dict[str, Any] = dict(simulation=TrainingSimulation(), curriculum=(EASY,), model=MODEL, crop_px=32, seed=3,
                    label_photon_min=50.0)
    settings.update(kwargs)
    return SyntheticSampler(**settings)


def test_samples_are_a_pure_function_of_seed_stream_and_index() -> None:
    sampler = _sampler()
    a, b = sampler.sample(EASY, 5), sampler.sample(EASY, 5)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.positions_px, b.positions_px)
    other = sampler.sample(EASY, 6)
    validation = sampler.sample(EASY, 5, stream=STREAM_VALIDATION)
    assert not np.array_equal(a.inputs, other.inputs)
    assert not np.array_equal(a.inputs, validation.inputs)
    assert a.inputs.shape == (2, 3, 32, 32)
    assert a.calcium is not None
    assert a.calcium.shape == (32, 32)


def test_targets_sit_on_bright_spots_of_the_centre_frame() -> None:
    sampler = _sampler()
    for index in range(4):
        s = sampler.sample(EASY, index)
        centre = s.inputs[0, 1] * MODEL.input_scale_photons  # photons
        assert s.background is not None
        background = float(s.background[0, 0])
        assert np.median(centre) == pytest.approx(background, rel=0.3, abs=2.0)
        for x, y in s.positions_px:
            r = int(np.clip(round(y), 0, 31))
            c = int(np.clip(round(x), 0, 31))
            # >= 2000 photons spread with sigma 1.3 px: the nearest pixel holds >> the background.
            assert centre[r, c] > background + 50.0


def test_calcium_label_is_a_disk_of_the_label_radius() -> None:
    label = calcium_label_map((20, 20), np.array([5.0, 14.0]), np.array([6.0, 12.0]), 2.0)
    assert label.sum() == 2 * 13  # 13 pixel centres lie within 2 px of a pixel centre
    assert label[6, 5] == 1.0
    assert label[12, 14] == 1.0
    assert label[0, 0] == 0.0


def test_curriculum_levels_follow_the_step() -> None:
    hard = SyntheticLevel(start_step=100, density_per_um2=(1.0, 2.0))
    sampler = _sampler(curriculum=(EASY, hard))
    assert sampler.level_at(0) is EASY
    assert sampler.level_at(99) is EASY
    assert sampler.level_at(100) is hard
    dense = np.mean([len(sampler.sample(hard, i).photons) for i in range(6)])
    sparse = np.mean([len(sampler.sample(EASY, i).photons) for i in range(6)])
    assert dense > 2 * sparse


def test_one_channel_models_get_no_calcium() -> None:
    s = _sampler(model=ModelConfig(in_channels=1, context_frames=1, base_channels=4, depth=2)).sample(EASY, 0)
    assert s.inputs.shape == (1, 1, 32, 32)
    assert s.calcium is None


def _thunderstorm_source(tmp_path, *, calcium: bool) -> tuple[ThunderstormSource, object]:
    sample = simulate_sample(SimulationParams(frames_per_sample=6, image_size_px=(48, 40), num_puncta_mean=8,
                                              photons_mean=3000.0, seed=21), 0)
    tifffile.imwrite(tmp_path / "movie.tif", sample.movie)
    if calcium:
        tifffile.imwrite(tmp_path / "calcium.tif", sample.calcium)
    truth = sample.truth
    table = LocalizationTable(frame=truth.frame, x_nm=truth.x_nm, y_nm=truth.y_nm, photons=truth.photons,
                              background=np.full(len(truth), 10.0), sigma_nm=np.full(len(truth), 130.0),
                              uncertainty_nm=np.full(len(truth), 5.0))
    write_thunderstorm_csv(table, tmp_path / "ts.csv")
    source = ThunderstormSource(movie=tmp_path / "movie.tif", localizations=tmp_path / "ts.csv",
                                calcium_movie=(tmp_path / "calcium.tif") if calcium else None, pixel_size_nm=100.0)
    return source, sample


def test_thunderstorm_windows_carry_the_csv_localizations_in_crop_coordinates(tmp_path) -> None:
    source, _ = _thunderstorm_source(tmp_path, calcium=True)
    sampler = ThunderstormSampler(sources=[source], model=MODEL, crop_px=32, seed=0, label_photon_min=50.0)
    seen = 0
    for index in range(6):
        s = sampler.sample(index)
        assert s.inputs.shape == (2, 3, 32, 32)
        assert s.calcium is None  # real data: the calcium label is unknown
        assert s.background is not None
        assert float(s.background[0, 0]) == pytest.approx(10.0)
        centre = s.inputs[0, 1] * MODEL.input_scale_photons
        for x, y in s.positions_px:
            assert -0.5 <= x < 31.5
            assert -0.5 <= y < 31.5
            assert centre[int(np.clip(round(y), 0, 31)), int(np.clip(round(x), 0, 31))] > 60.0
            seen += 1
    assert seen > 0


def test_thunderstorm_errors_name_the_file(tmp_path) -> None:
    source, _ = _thunderstorm_source(tmp_path, calcium=False)
    with pytest.raises(Exception, match="smaller than crop_px"):
        ThunderstormSampler(sources=[source], model=ModelConfig(in_channels=1, context_frames=1, base_channels=4,
                                                                depth=2), crop_px=64, seed=0, label_photon_min=0.0)
