"""Frame QC rules against synthetic stacks whose focus, motion and drift are known."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_focusmetrics.correlation import all_vs_all, consecutive, standardise
from scopeweave_focusmetrics.metrics import build_metric
from scopeweave_focusmetrics.qc.assess import assess_stack
from scopeweave_focusmetrics.qc.config import DriftRule, FocusRule, MotionRule, QcConfig
from scopeweave_focusmetrics.qc.rules import blur_threshold, fit_focus_curve
from scopeweave_focusmetrics.synthetic import defocus_stack

FOCUS = 15


@pytest.fixture(scope="module")
def stack_and_truth(camera_128: np.ndarray):
    return defocus_stack(camera_128, n_frames=31, focus_index=FOCUS, sigma_per_frame_px=0.25, min_sigma_px=0.5,
                         shake_px={13: (3.0, -2.0)}, drift_frames=range(17, 20), drift_px=(4.0, 4.0), seed=3)


def _run(stack: np.ndarray, **rules) -> object:
    config = QcConfig(focus=rules.get("focus", FocusRule()), motion=rules.get("motion", MotionRule()),
                      drift=rules.get("drift", DriftRule()))
    return assess_stack(stack, metric=rules.get("metric", build_metric("mean-abs-log")), metric_name="m",
                        config=config)


def test_pearson_correlation_matches_numpy(camera_128: np.ndarray) -> None:
    rng = np.random.default_rng(0)
    frames = np.stack([camera_128 + rng.normal(0, s, camera_128.shape) for s in (0.01, 0.1, 0.3)])
    z = standardise(frames)
    expected = np.corrcoef(frames.reshape(3, -1))
    np.testing.assert_allclose(all_vs_all(z), expected, atol=1e-5)
    np.testing.assert_allclose(consecutive(z), [expected[0, 1], expected[1, 2]], atol=1e-5)


def test_peak_rule_keeps_the_in_focus_band(stack_and_truth) -> None:
    stack, truth = stack_and_truth
    qc = _run(stack, focus=FocusRule(rule="peak", alpha=0.7), motion=MotionRule(rule="none"),
              drift=DriftRule(method="none"))
    distance = np.abs(np.arange(len(stack)) - FOCUS)
    assert not qc.is_blurry[(distance <= 1) & ~np.isin(np.arange(len(stack)), [13])].any()
    assert qc.is_blurry[distance >= 6].all()
    assert qc.best_frame == truth.focus_index
    assert qc.focus_threshold.value == pytest.approx(0.7 * qc.sharpness.max())


def test_mad_rule_threshold_is_median_minus_k_robust_sigma() -> None:
    scores = np.array([10.0, 10.5, 9.5, 10.2, 9.8, 2.0, 10.1])
    threshold = blur_threshold(scores, FocusRule(rule="mad", k=2.0), higher_is_sharper=True)
    mad = np.median(np.abs(scores - np.median(scores)))
    assert threshold.value == pytest.approx(np.median(scores) - 2.0 * 1.4826 * mad)
    assert threshold.fails(scores).tolist() == [False, False, False, False, False, True, False]
    mirrored = blur_threshold(-scores + 20, FocusRule(rule="mad", k=2.0), higher_is_sharper=False)
    assert mirrored.fails(-scores + 20).tolist() == threshold.fails(scores).tolist()


def test_otsu_and_floor_rules_split_two_populations() -> None:
    scores = np.r_[np.full(5, 1.0), np.full(5, 9.0)]
    otsu = blur_threshold(scores, FocusRule(rule="otsu"), higher_is_sharper=True)
    assert otsu.fails(scores).tolist() == [True] * 5 + [False] * 5
    floor = blur_threshold(scores, FocusRule(rule="floor", floor=5.0), higher_is_sharper=True)
    assert floor.fails(scores).tolist() == [True] * 5 + [False] * 5


def test_peak_rule_refuses_negative_scores() -> None:
    with pytest.raises(ValueError, match="positive scores"):
        blur_threshold(np.array([-2.0, -3.0]), FocusRule(rule="peak"), higher_is_sharper=True)


def test_motion_flags_both_frames_of_a_bad_pair(stack_and_truth) -> None:
    stack, _ = stack_and_truth
    qc = _run(stack, focus=FocusRule(rule="none"), motion=MotionRule(scope="all", attribution="both"),
              drift=DriftRule(method="none"))
    # Frame 13 is shaken: corr(12, 13) and corr(13, 14) drop. The drifted segment 17-19 breaks
    # corr(16, 17) and corr(19, 20).
    assert np.flatnonzero(qc.is_shaken).tolist() == [12, 13, 14, 16, 17, 19, 20]


def test_isolated_attribution_flags_only_the_jittered_frame(stack_and_truth) -> None:
    stack, _ = stack_and_truth
    qc = _run(stack, focus=FocusRule(rule="none"), motion=MotionRule(scope="all", attribution="isolated"),
              drift=DriftRule(method="none"))
    assert np.flatnonzero(qc.is_shaken).tolist() == [13]


def test_floor_motion_rule(stack_and_truth) -> None:
    stack, _ = stack_and_truth
    qc = _run(stack, focus=FocusRule(rule="none"), motion=MotionRule(rule="floor", floor=0.95, scope="all",
                                                                     attribution="isolated"),
              drift=DriftRule(method="none"))
    assert qc.motion_threshold.value == 0.95
    assert np.flatnonzero(qc.is_shaken).tolist() == [13]


@pytest.mark.parametrize("anchor", ["sharpest", "top-k-mean"])
def test_anchor_correlation_flags_the_drifted_segment(camera_128: np.ndarray, anchor: str) -> None:
    stack, truth = defocus_stack(camera_128, n_frames=15, sigma_per_frame_px=0.15, drift_frames=range(9, 13),
                                 drift_px=(5.0, -5.0), seed=4)
    qc = _run(stack, focus=FocusRule(rule="none"), motion=MotionRule(rule="none"),
              drift=DriftRule(method="anchor", anchor=anchor, top_k=3))
    assert np.flatnonzero(qc.is_drift).tolist() == list(truth.drifted)


def test_golden_template_keeps_frames_aligned_with_it(camera_128: np.ndarray) -> None:
    stack, truth = defocus_stack(camera_128, n_frames=12, sigma_per_frame_px=0.05, drift_frames=range(0, 4),
                                 drift_px=(6.0, 0.0), seed=5)
    qc = assess_stack(stack, metric=build_metric("tenengrad"), metric_name="t",
                      config=QcConfig(focus=FocusRule(rule="none"), motion=MotionRule(rule="none"),
                                      drift=DriftRule(method="template", template_path="unused.tif")),
                      template=camera_128)
    assert np.flatnonzero(qc.is_drift).tolist() == list(truth.drifted)


def test_clique_and_dbscan_find_two_segments(camera_128: np.ndarray) -> None:
    stack, _ = defocus_stack(camera_128, n_frames=14, sigma_per_frame_px=0.02, drift_frames=range(0, 5),
                             drift_px=(6.0, 6.0), seed=6)
    for method in ("clique", "dbscan"):
        qc = _run(stack, focus=FocusRule(rule="none"), motion=MotionRule(rule="none"),
                  drift=DriftRule(method=method, min_corr=0.95))
        assert np.flatnonzero(qc.keep).tolist() == list(range(5, 14)), method
        assert sorted(map(sorted, qc.group.segments)) == [list(range(5)), list(range(5, 14))], method


def test_gain_change_does_not_look_like_defocus_with_a_normalised_metric(camera_128: np.ndarray) -> None:
    stack, _ = defocus_stack(camera_128, n_frames=9, sigma_per_frame_px=0.05, gain={3: 0.5}, background=0.0,
                             seed=7)
    raw = _run(stack, metric=build_metric("laplacian-variance"), motion=MotionRule(rule="none"),
               drift=DriftRule(method="none"))
    normalised = _run(stack, metric=build_metric("laplacian-variance", normalise=True), motion=MotionRule(rule="none"),
                      drift=DriftRule(method="none"))
    assert raw.is_blurry.tolist() == [i == 3 for i in range(9)]
    assert not normalised.is_blurry.any()


def test_focus_curve_residual_flags_a_motion_blurred_frame(camera_128: np.ndarray) -> None:
    from scipy import ndimage

    stack, truth = defocus_stack(camera_128, n_frames=21, sigma_per_frame_px=0.3, seed=8)
    smeared = stack.astype(np.float64)
    smeared[8] = ndimage.uniform_filter1d(smeared[8], 7, axis=1)  # blur from motion during the exposure
    scores = build_metric("mean-abs-log").score_batch(smeared)
    for model in ("gaussian", "parabola"):
        fit = fit_focus_curve(scores, MotionRule(curve_fit=model), higher_is_sharper=True)
        assert np.flatnonzero(fit.outliers).tolist() == [8], model
        assert fit.peak_position == pytest.approx(truth.focus_index, abs=0.6)


def test_saturated_frames_are_dropped(camera_128: np.ndarray) -> None:
    stack, _ = defocus_stack(camera_128, n_frames=7, sigma_per_frame_px=0.05, seed=9)
    stack[2, :64] = 65535
    qc = assess_stack(stack, metric=build_metric("brenner"), metric_name="b",
                      config=QcConfig(focus=FocusRule(rule="none"), motion=MotionRule(rule="none"),
                                      drift=DriftRule(method="none"), max_saturated_fraction=0.3))
    assert qc.saturated[2] == pytest.approx(0.5)
    assert np.flatnonzero(~qc.keep).tolist() == [2]
