"""Inference: deterministic, batch- and chunk-invariant, ensembles, the Localizer protocol, event assignment."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import tifffile
import torch
from scopeweave_puncta.camera_model import CameraModel
from scopeweave_puncta.deep.checkpoint import save_checkpoint
from scopeweave_puncta.deep.inference import Predictor, assign_events_to_tracks, average_maps, resolve_device
from scopeweave_puncta.deep.localizer import HybridUNetLocalizer
from scopeweave_puncta.deep.model import HybridUNet
from scopeweave_puncta.deep.movies import open_movie
from scopeweave_puncta.deep.params import HybridUNetParams, ModelConfig, PredictionParams
from scopeweave_puncta.deep.postprocess import OutputMaps
from scopeweave_puncta.ground_truth import CalciumEvents
from scopeweave_puncta.sim_params import SimulationParams
from scopeweave_puncta.simulate import simulate_sample
from scopeweave_puncta.table import LOCALIZATION_COLUMNS, LocalizationTable
from scopeweave_puncta.tracking import Tracks

from scopeweave.errors import ScopeweaveError
from scopeweave.kinds import Localizer

CAMERA = CameraModel()
LOW = PredictionParams(device="cpu", raw_threshold=0.05, detection_threshold=0.15, calcium_threshold=0.3)


@pytest.fixture(scope="module")
def movie():
    return simulate_sample(SimulationParams(frames_per_sample=7, image_size_px=(36, 28), num_puncta_mean=10,
                                            photons_mean=3000.0, background_photons=8.0, seed=8), 0)


def _tables_equal(a: LocalizationTable, b: LocalizationTable) -> None:
    a, b = a.sorted_by_frame(), b.sorted_by_frame()
    assert len(a) == len(b)
    for name in LOCALIZATION_COLUMNS:
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-5, atol=1e-4, equal_nan=True)


def test_inference_is_deterministic_and_batch_and_chunk_invariant(tiny_checkpoint, movie) -> None:
    runs = []
    for batch, chunk in ((1, 256), (4, 256), (3, 2), (1, 256)):
        predictor = Predictor([tiny_checkpoint], attrs.evolve(LOW, batch_size=batch, chunk_frames=chunk))
        runs.append(predictor.analyze(movie.movie, calcium=movie.calcium, camera=CAMERA, pixel_size_nm=100.0))
    assert len(runs[0].localizations) > 0  # thresholds low enough that the barely trained model reports spots
    for other in runs[1:]:
        _tables_equal(runs[0].localizations, other.localizations)
        assert len(other.calcium_events) == len(runs[0].calcium_events)
    first, last = runs[0].localizations, runs[-1].localizations
    for name in LOCALIZATION_COLUMNS:  # same settings: bit-identical
        np.testing.assert_array_equal(getattr(first, name), getattr(last, name))
    assert runs[0].n_frames == 7
    assert runs[0].frames_per_s > 0


def test_an_ensemble_averages_its_members(tiny_checkpoint, tmp_path, movie) -> None:
    torch.manual_seed(3)
    other = save_checkpoint(tmp_path / "other.pt", HybridUNet(ModelConfig(base_channels=4, depth=2)))
    single_a = Predictor([tiny_checkpoint], LOW)
    single_b = Predictor([other], LOW)
    ensemble = Predictor([tiny_checkpoint, other], LOW)
    windows = np.random.default_rng(0).normal(0.2, 0.05, (2, 2, 3, 24, 24)).astype(np.float32)
    a, b, both = single_a.predict(windows), single_b.predict(windows), ensemble.predict(windows)
    torch.testing.assert_close(both.probability, (a.probability + b.probability) / 2)
    torch.testing.assert_close(both.photons, (a.photons + b.photons) / 2)
    assert both.calcium is not None
    assert a.calcium is not None
    assert b.calcium is not None
    torch.testing.assert_close(both.calcium, (a.calcium + b.calcium) / 2)
    # Uncertainty: members' variances plus the spread of their means.
    mean_x = (a.offset_px[:, 0] + b.offset_px[:, 0]) / 2
    spread = ((a.offset_px[:, 0] - mean_x) ** 2 + (b.offset_px[:, 0] - mean_x) ** 2) / 2
    expected = torch.sqrt((a.sigma[:, 0] ** 2 + b.sigma[:, 0] ** 2) / 2 + spread)
    torch.testing.assert_close(both.sigma[:, 0], expected)
    same = Predictor([tiny_checkpoint, tiny_checkpoint], LOW).analyze(movie.movie, calcium=movie.calcium,
                                                                       camera=CAMERA, pixel_size_nm=100.0)
    _tables_equal(same.localizations, single_a.analyze(movie.movie, calcium=movie.calcium, camera=CAMERA,
                                                       pixel_size_nm=100.0).localizations)


def test_average_maps_with_hand_values() -> None:
    def maps(p: float, x: float, s: float) -> OutputMaps:
        return OutputMaps(probability=torch.full((1, 2, 2), p), offset_px=torch.full((1, 2, 2, 2), x),
                          photons=torch.full((1, 2, 2), 100.0), sigma=torch.full((1, 3, 2, 2), s),
                          background=torch.full((1, 2, 2), 5.0), calcium=None)

    both = average_maps([maps(0.2, -0.1, 0.3), maps(0.6, 0.3, 0.4)])
    assert float(both.probability[0, 0, 0]) == pytest.approx(0.4)
    assert float(both.offset_px[0, 0, 0, 0]) == pytest.approx(0.1)
    assert float(both.sigma[0, 0, 0, 0]) == pytest.approx(np.sqrt((0.09 + 0.16) / 2 + 0.2**2))
    assert both.calcium is None


def test_ensemble_members_must_share_inputs(tiny_checkpoint, tmp_path) -> None:
    one = save_checkpoint(tmp_path / "one.pt", HybridUNet(ModelConfig(in_channels=1, context_frames=1,
                                                                      base_channels=4, depth=2)))
    with pytest.raises(ScopeweaveError, match="share in_channels and context_frames"):
        Predictor([tiny_checkpoint, one], LOW)


def test_calcium_events_need_both_a_calcium_channel_and_a_two_channel_model(tiny_checkpoint, tmp_path, movie) -> None:
    without = Predictor([tiny_checkpoint], LOW).analyze(movie.movie, calcium=None, camera=CAMERA, pixel_size_nm=100.0)
    assert len(without.calcium_events) == 0
    one = save_checkpoint(tmp_path / "one.pt", HybridUNet(ModelConfig(in_channels=1, context_frames=1,
                                                                      base_channels=4, depth=2)))
    analysis = Predictor([one], LOW).analyze(movie.movie, calcium=movie.calcium, camera=CAMERA, pixel_size_nm=100.0)
    assert len(analysis.calcium_events) == 0


def test_the_localizer_follows_the_protocol(tiny_checkpoint, movie) -> None:
    localizer = HybridUNetLocalizer(HybridUNetParams(checkpoints=[tiny_checkpoint], prediction=LOW))
    assert isinstance(localizer, Localizer)
    columns = localizer.localize(movie.movie, pixel_size_nm=100.0)
    assert list(columns) == list(LOCALIZATION_COLUMNS)
    table = LocalizationTable.from_columns(columns)
    assert len(table) > 0
    assert table.frame.max() < 7
    other = localizer.with_camera(CameraModel(baseline_adu=0.0))
    assert other.predictor is localizer.predictor
    assert other.params.camera.baseline_adu == 0.0
    single = localizer.localize(movie.movie[3], pixel_size_nm=100.0)
    assert set(np.asarray(single["frame"]).tolist()) <= {0}


def test_missing_checkpoint_and_unavailable_cuda_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ScopeweaveError, match="no such checkpoint"):
        Predictor([tmp_path / "missing.pt"], LOW)
    if not torch.cuda.is_available():
        with pytest.raises(ScopeweaveError, match="no CUDA device"):
            resolve_device("cuda")
        assert resolve_device("auto").type == "cpu"


def test_events_are_assigned_to_the_nearest_living_track() -> None:
    # Track 0 sits at x = 1000 nm in frames 0-9; track 1 at x = 3000 nm in frames 5-9.
    frames = np.r_[np.arange(10), np.arange(5, 10)]
    x = np.r_[np.full(10, 1000.0), np.full(5, 3000.0)]
    loc = LocalizationTable(frame=frames, x_nm=x, y_nm=np.full(15, 1000.0), photons=np.ones(15),
                            background=np.ones(15), sigma_nm=np.ones(15), uncertainty_nm=np.ones(15))
    tracks = Tracks(localizations=loc, track_id=np.r_[np.zeros(10), np.ones(5)])
    events = CalciumEvents(event_id=[0, 1, 2, 3], frame=[2, 6, 2, 6], x_nm=[1100.0, 2900.0, 2900.0, 6000.0],
                           y_nm=[1000.0] * 4, amplitude_dff=[1.0] * 4, duration_frames=[2] * 4, punctum_id=[-1] * 4)
    out = assign_events_to_tracks(events, tracks, n_frames=10, pixel_size_nm=100.0, max_distance_nm=400.0)
    # Event 2 is near track 1's place but before track 1 exists; event 3 is far from everything.
    assert out.punctum_id.tolist() == [0, 1, -1, -1]


def test_movies_are_memory_mapped_or_read(tmp_path) -> None:
    data = np.arange(4 * 8 * 6, dtype=np.uint16).reshape(4, 8, 6)
    tifffile.imwrite(tmp_path / "plain.tif", data, photometric="minisblack")
    tifffile.imwrite(tmp_path / "packed.tif", data, compression="zlib", photometric="minisblack")
    tifffile.imwrite(tmp_path / "single.tif", data[0])
    assert isinstance(open_movie(tmp_path / "plain.tif"), np.memmap)
    np.testing.assert_array_equal(open_movie(tmp_path / "packed.tif"), data)
    assert open_movie(tmp_path / "single.tif").shape == (1, 8, 6)
    (tmp_path / "bad.tif").write_bytes(b"nope")
    with pytest.raises(ScopeweaveError, match="cannot read"):
        open_movie(tmp_path / "bad.tif")
