"""Templates, gates and matched filtering recover known clusters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scopeweave_4dstem.engine import AnalysisWarning, analyse
from scopeweave_4dstem.geometry import reflect_about
from scopeweave_4dstem.params import (
    ComputeParams,
    PolarSettings,
    PreprocessParams,
    SyntheticParams,
    TemplatesParams,
    ValidationParams,
)
from scopeweave_4dstem.source import ArraySource, Hdf5Source
from scopeweave_4dstem.synthetic import SyntheticTruth, render_rows, synthesize_array
from scopeweave_4dstem.templates import make_gates

MakeParams = Callable[..., SyntheticParams]


def _true_differential(params: SyntheticParams, truth: SyntheticTruth) -> np.ndarray:
    """Noise-free mean pattern of each true cluster minus the all-cluster mean (unshifted beam)."""
    flat = SyntheticParams(**{**_as_dict(params), "dose": 0.0, "field_px": 0.0, "descan_slope_px": 0.0})
    frames = render_rows(flat, truth, 0, params.scan_shape[0]).reshape(-1, *params.detector_shape_px).astype(float)
    labels = truth.labels.ravel()
    means = np.stack([frames[labels == c].mean(axis=0) for c in range(params.n_clusters)])
    return means - frames.mean(axis=0)


def _as_dict(params: SyntheticParams) -> dict[str, object]:
    import attrs

    return attrs.asdict(params, recurse=False)


def test_templates_and_assignment_recover_the_clusters(
    cluster_file: tuple[Path, SyntheticTruth], make_cluster_params: MakeParams
) -> None:
    path, truth = cluster_file
    params = make_cluster_params(chunk_rows=2)
    settings = PolarSettings(
        preprocess=PreprocessParams(log_transform=False, central_mask_px=6.0),
        templates=TemplatesParams(top_percent=10.0),
    )
    result = analyse(Hdf5Source.open(path), truth.noisy_labels, settings, ComputeParams(block_mib=0.05))
    given = np.mean(truth.noisy_labels == truth.labels)
    assigned = np.mean(result.assignment == truth.labels)
    assert given < 0.93
    assert assigned > 0.98
    # Templates point the way of the true differential patterns (correlation over the detector).
    assert result.templates is not None
    expected = _true_differential(params, truth)
    for c in range(params.n_clusters):
        keep = np.hypot(*np.indices(params.detector_shape_px) - np.array(result.centre.yx)[:, None, None]) > 6.0
        r = np.corrcoef(result.templates[c][keep], expected[c][keep])[0, 1]
        assert r > 0.8, f"cluster {c}: template correlation {r:.2f}"
        # The gate keeps the brightest Bragg disk of the cluster (and its Friedel mate, by symmetry).
        assert result.gates is not None
        brightest = np.unravel_index(np.argmax(np.where(keep, expected[c], -np.inf)), expected[c].shape)
        assert result.gates[c][brightest] > 0


def test_cluster_means_match_the_labelled_patterns(make_cluster_params: MakeParams) -> None:
    params = make_cluster_params(scan_shape=(8, 10), label_noise=0.0)
    data, truth = synthesize_array(params)
    settings = PolarSettings(preprocess=PreprocessParams(log_transform=False, background_subtract=False))
    result = analyse(ArraySource(data), truth.labels, settings, ComputeParams(scheduler="synchronous"))
    frames = data.reshape(-1, *params.detector_shape_px).astype(np.float64)
    assert result.mu_cluster is not None
    assert result.sigma_global is not None
    for c in range(params.n_clusters):
        np.testing.assert_allclose(result.mu_cluster[c], frames[truth.labels.ravel() == c].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(result.sigma_global, frames.std(axis=0), rtol=1e-4, atol=1e-4)


def test_gates_are_symmetric_top_percent_and_respect_masks() -> None:
    rng = np.random.default_rng(0)
    frame_shape = (30, 30)
    centre = (14.5, 15.0)
    templates = rng.standard_normal((2, 900))
    keep = (np.hypot(*(np.indices(frame_shape) - np.array(centre)[:, None, None])) > 3).ravel()
    gates = make_gates(
        templates, frame_shape, centre, top_percent=10.0, smooth_sigma_px=0.0, roi_r_px=(3.0, 12.0), keep=keep
    )
    for gate in gates:
        np.testing.assert_array_equal(gate, reflect_about(gate, centre))
        radius = np.hypot(*(np.indices(frame_shape) - np.array(centre)[:, None, None]))
        assert np.all(gate[(radius > 12.0) | (radius <= 3.0)] == 0)
        assert set(np.unique(gate)) <= {0.0, 0.5, 1.0}
    valid = keep.reshape(frame_shape) & (np.hypot(*(np.indices(frame_shape) - np.array(centre)[:, None, None])) <= 12)
    # Before symmetrisation exactly the top 10 % of valid pixels are in; afterwards at most twice that.
    for gate in gates:
        fraction = np.count_nonzero(gate) / valid.sum()
        assert 0.1 <= fraction <= 0.2 + 1e-9


def test_smoothing_makes_soft_gates_that_stay_symmetric() -> None:
    rng = np.random.default_rng(1)
    templates = rng.standard_normal((1, 24 * 24))
    gates = make_gates(
        templates, (24, 24), (11.5, 11.5), top_percent=20.0, smooth_sigma_px=1.5, roi_r_px=None,
        keep=np.ones(576, bool),
    )
    gate = gates[0]
    assert 0 < gate.max() < 1
    assert len(np.unique(gate)) > 10
    np.testing.assert_allclose(gate, reflect_about(gate, (11.5, 11.5)), atol=1e-6)


def test_split_half_ssim_is_high_for_real_clusters_and_warns_for_noise(make_cluster_params: MakeParams) -> None:
    params = make_cluster_params(scan_shape=(16, 16))
    data, truth = synthesize_array(params)
    settings = PolarSettings(validation=ValidationParams(enable_split_half=True))
    result = analyse(ArraySource(data), truth.noisy_labels, settings, ComputeParams(scheduler="synchronous"))
    assert result.ssim is not None
    assert min(result.ssim) > 0.6

    noise = np.random.default_rng(5).poisson(50.0, size=(16, 16, 24, 24)).astype(np.float32)
    noise[:, :, 10:14, 10:14] += 500  # a beam, so the centre is found
    random_labels = np.random.default_rng(6).integers(0, 3, (16, 16))
    with pytest.warns(AnalysisWarning, match="split-half template SSIM"):
        noisy = analyse(ArraySource(noise), random_labels, settings, ComputeParams(scheduler="synchronous"))
    assert noisy.ssim is not None
    assert max(noisy.ssim) < 0.5
    assert any("SSIM" in note for note in noisy.warnings)


def test_confidence_is_graded_by_the_temperature(make_cluster_params: MakeParams) -> None:
    from scopeweave_4dstem.params import MatchedFilterParams

    data, truth = synthesize_array(make_cluster_params(scan_shape=(10, 10)))
    compute = ComputeParams(scheduler="synchronous")
    cold = analyse(ArraySource(data), truth.noisy_labels, PolarSettings(), compute)
    hot = analyse(
        ArraySource(data), truth.noisy_labels,
        PolarSettings(matched_filter=MatchedFilterParams(softmax_temp=1e6)), compute,
    )
    assert cold.confidence is not None
    assert hot.confidence is not None
    np.testing.assert_array_equal(cold.assignment, hot.assignment)
    assert np.allclose(hot.confidence, 1 / 3, atol=1e-3)
    assert cold.confidence.mean() > hot.confidence.mean()
    assert hot.confidence_summary is not None
    assert "chance" in hot.confidence_summary["note"]
