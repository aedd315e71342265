"""From output maps to localizations and calcium events, on hand-made maps with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scopeweave_puncta.deep.postprocess import CalciumEventBuilder, OutputMaps, detect_peaks, localizations_from_maps

H, W = 16, 20
PIXEL_NM = 100.0


def _peaks(prob: np.ndarray) -> set[tuple[int, int]]:
    found = detect_peaks(torch.from_numpy(prob[None].astype(np.float32)), raw_threshold=0.1,
                         detection_threshold=0.5, split_threshold=0.6)[0].numpy()
    return {(int(r), int(c)) for r, c in zip(*np.nonzero(found), strict=True)}


def test_one_emitter_spread_over_two_pixels_is_one_localization() -> None:
    prob = np.zeros((H, W))
    prob[5, 7], prob[5, 8] = 0.45, 0.4
    assert _peaks(prob) == {(5, 7)}


def test_separate_and_adjacent_confident_emitters_are_all_found() -> None:
    prob = np.zeros((H, W))
    prob[2, 3] = 0.9
    prob[10, 10], prob[10, 11] = 0.85, 0.8  # two emitters in neighbouring pixels (split threshold)
    assert _peaks(prob) == {(2, 3), (10, 10), (10, 11)}


def test_weak_or_diffuse_probability_is_not_a_localization() -> None:
    prob = np.zeros((H, W))
    prob[4, 4] = 0.3  # alone: 3 x 3 mass 0.3 < 0.5
    prob[10, 2:8] = 0.08  # below the raw threshold everywhere
    assert _peaks(prob) == set()


def test_localizations_read_the_maps_at_the_peaks() -> None:
    n = 2
    prob = torch.zeros(n, H, W)
    prob[0, 3, 4] = 0.95
    prob[1, 12, 15] = 0.9
    offset = torch.zeros(n, 2, H, W)
    offset[0, :, 3, 4] = torch.tensor([0.25, -0.4])
    offset[1, :, 12, 15] = torch.tensor([-0.1, 0.3])
    photons = torch.full((n, H, W), 1234.0)
    sigma = torch.zeros(n, 3, H, W)
    sigma[:, 0], sigma[:, 1], sigma[:, 2] = 0.1, 0.2, 50.0
    background = torch.full((n, H, W), 12.5)
    maps = OutputMaps(probability=prob, offset_px=offset, photons=photons, sigma=sigma, background=background,
                      calcium=None)
    table = localizations_from_maps(maps, np.array([7, 8]), pixel_size_nm=PIXEL_NM, raw_threshold=0.1,
                                    detection_threshold=0.5, split_threshold=0.6).sorted_by_frame()
    assert table.frame.tolist() == [7, 8]
    np.testing.assert_allclose(table.x_nm, [(4 + 0.25 + 0.5) * PIXEL_NM, (15 - 0.1 + 0.5) * PIXEL_NM], rtol=1e-6)
    np.testing.assert_allclose(table.y_nm, [(3 - 0.4 + 0.5) * PIXEL_NM, (12 + 0.3 + 0.5) * PIXEL_NM], rtol=1e-6)
    np.testing.assert_allclose(table.photons, 1234.0)
    np.testing.assert_allclose(table.background, 12.5)
    np.testing.assert_allclose(table.uncertainty_nm, math.sqrt(0.5 * (0.1**2 + 0.2**2)) * PIXEL_NM, rtol=1e-6)
    assert np.all(np.isnan(table.sigma_nm))


def _disk(cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    return ((yy - cy) ** 2 + (xx - cx) ** 2 <= r * r).astype(float)


def test_calcium_events_have_the_onset_duration_centre_and_amplitude_of_the_blobs() -> None:
    builder = CalciumEventBuilder(threshold=0.5, min_pixels=4, pixel_size_nm=PIXEL_NM)
    for frame in range(10):
        prob = np.zeros((H, W))
        dff = np.zeros((H, W))
        if 3 <= frame <= 6:
            prob += 0.8 * _disk(5, 6, 2) + 0.15 * _disk(5, 6, 0)
            dff += (1.0 + 0.1 * frame) * _disk(5, 6, 1.5)
        if frame == 8:
            prob[12, 15] = 0.9  # a single pixel: below min_pixels
        builder.add_frame(frame, prob, dff)
    events = builder.finish()
    assert len(events) == 1
    assert events.frame[0] == 3
    assert events.duration_frames[0] == 4
    assert events.x_nm[0] == pytest.approx((6 + 0.5) * PIXEL_NM)
    assert events.y_nm[0] == pytest.approx((5 + 0.5) * PIXEL_NM)
    assert events.amplitude_dff[0] == pytest.approx(1.6, rel=1e-6)  # 3 x 3 mean inside the blob, at frame 6
    assert events.punctum_id[0] == -1


def test_regions_that_meet_merge_into_one_event_and_frames_must_come_in_order() -> None:
    builder = CalciumEventBuilder(threshold=0.5, min_pixels=1, pixel_size_nm=PIXEL_NM)
    builder.add_frame(0, 0.9 * (_disk(5, 3, 1) + _disk(5, 14, 1)), None)
    bridge = np.zeros((H, W))
    bridge[4:7, 2:16] = 0.9
    builder.add_frame(1, bridge, None)
    events = builder.finish()
    assert len(events) == 1
    assert events.frame[0] == 0
    assert events.duration_frames[0] == 2
    assert math.isnan(events.amplitude_dff[0])
    with pytest.raises(ValueError, match="in order"):
        builder.add_frame(5, bridge, None)


@pytest.mark.parametrize(("gap", "expected"), [(0, [(0, 2), (3, 2)]), (1, [(0, 5)])])
def test_a_one_frame_dropout_is_bridged_only_with_a_gap_allowance(gap, expected) -> None:
    builder = CalciumEventBuilder(threshold=0.5, min_pixels=1, pixel_size_nm=PIXEL_NM, max_gap_frames=gap)
    for frame in range(5):
        builder.add_frame(frame, 0.9 * _disk(8, 8, 2) if frame != 2 else np.zeros((H, W)), None)
    events = builder.finish()
    assert list(zip(events.frame.tolist(), events.duration_frames.tolist(), strict=True)) == expected
