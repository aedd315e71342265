import math

import numpy as np
import pytest
from scopeweave_focuslock.lock.roi_tracking import RoiTracker, TrackingSettings

from scopeweave.kinds import Roi


def test_follows_a_drifting_spot_and_keeps_it_centred() -> None:
    tracker = RoiTracker(TrackingSettings(track_gain=0.4, track_deadband_px=1.0, track_max_step_px=5.0),
                         sensor_shape_px=(256, 256))
    roi = Roi(x_px=100, y_px=100, width_px=32, height_px=32)
    spot_x, spot_y = 115.5, 115.5  # sensor coordinates; ROI centre is at 115.5
    offsets = []
    for _ in range(300):
        spot_x += 0.2
        spot_y -= 0.1
        roi = tracker.update(roi, spot_x_px=spot_x - roi.x_px, spot_y_px=spot_y - roi.y_px)
        offsets.append((spot_x - roi.x_px - 15.5, spot_y - roi.y_px - 15.5))
    late = np.abs(np.array(offsets[50:]))
    assert late.max() < 3.0  # never near the edge of a 32 px ROI
    assert roi.x_px == pytest.approx(100 + 60, abs=3)
    assert roi.y_px == pytest.approx(100 - 30, abs=3)


def test_deadband_max_step_and_sensor_edges() -> None:
    tracker = RoiTracker(TrackingSettings(track_gain=1.0, track_deadband_px=2.0, track_max_step_px=4.0), sensor_shape_px=(64, 64))
    roi = Roi(x_px=10, y_px=10, width_px=20, height_px=20)
    assert tracker.update(roi, spot_x_px=11.0, spot_y_px=8.0) == roi  # 1.5 px off: inside the deadband
    moved = tracker.update(roi, spot_x_px=19.5, spot_y_px=0.0)
    assert (moved.x_px, moved.y_px) == (14, 6)  # clamped to 4 px per frame
    edge = Roi(x_px=44, y_px=0, width_px=20, height_px=20)
    assert tracker.update(edge, spot_x_px=19.0, spot_y_px=0.0) == edge  # already at the sensor edge


def test_nan_spot_leaves_the_roi() -> None:
    tracker = RoiTracker(TrackingSettings(), sensor_shape_px=(64, 64))
    roi = Roi(x_px=5, y_px=5, width_px=16, height_px=16)
    assert tracker.update(roi, spot_x_px=math.nan, spot_y_px=3.0) is roi


def test_settings_validation() -> None:
    with pytest.raises(ValueError, match="'track_gain' must be in"):
        TrackingSettings(track_gain=0.0)
