"""Interactive calibration, driven offscreen with real mouse clicks (pytest-qt)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pyqtgraph")
pytestmark = pytest.mark.gui

from pyqtgraph.Qt import QtCore  # noqa: E402
from scopeweave_4dstem import gui  # noqa: E402
from scopeweave_4dstem.centre import BeamCentre, detect_beam_centre  # noqa: E402
from scopeweave_4dstem.engine import analyse  # noqa: E402
from scopeweave_4dstem.params import (  # noqa: E402
    CalibrationParams,
    ComputeParams,
    DpcParams,
    PolarSettings,
    SyntheticParams,
)
from scopeweave_4dstem.source import ArraySource  # noqa: E402
from scopeweave_4dstem.synthetic import synthesize_array  # noqa: E402

from scopeweave.errors import ScopeweaveError  # noqa: E402


def _pattern() -> tuple[np.ndarray, BeamCentre, SyntheticParams]:
    params = SyntheticParams(scan_shape=(4, 4), detector_shape_px=(64, 64), disk_radius_px=6.0, bragg_spacing_px=20.0,
                             field_px=0.0, descan_slope_px=0.0, n_clusters=1, bragg_asymmetry=0.0)
    data, _ = synthesize_array(params)
    pattern = data.reshape(-1, 64, 64).mean(axis=0).astype(np.float64)
    return pattern, detect_beam_centre(pattern), params


def _click(qtbot: object, widget: object, y: float, x: float) -> None:
    point = widget.to_view(y, x)  # type: ignore[attr-defined]
    qtbot.mouseClick(widget.plot.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=point)  # type: ignore[attr-defined]


def test_centre_picker_returns_the_clicked_pixel(qtbot: object, tmp_path: Path) -> None:
    pattern, centre, _ = _pattern()
    widget = gui.CentrePicker(pattern, centre)
    qtbot.addWidget(widget)  # type: ignore[attr-defined]
    widget.show()
    qtbot.waitExposed(widget)  # type: ignore[attr-defined]
    assert widget.grab().save(str(tmp_path / "centre.png"))
    with qtbot.waitSignal(widget.finished, timeout=3000):  # type: ignore[attr-defined]
        _click(qtbot, widget, 30.0, 33.0)
    y, x = widget.result
    # A click lands on a screen pixel: within one screen pixel (< 0.15 detector px at this zoom).
    assert abs(y - 30.0) < 0.15
    assert abs(x - 33.0) < 0.15


def test_kspace_calibrator_measures_two_opposite_reflections(qtbot: object) -> None:
    pattern, centre, params = _pattern()
    widget = gui.KSpaceCalibrator(pattern, centre, spacing_angstrom=2.0, refine_radius_px=4.0)
    qtbot.addWidget(widget)  # type: ignore[attr-defined]
    widget.show()
    qtbot.waitExposed(widget)  # type: ignore[attr-defined]
    cy, cx = centre.yx
    g = params.bragg_spacing_px
    # Clicks 1.5 px off the reflections at +-60 degrees: refinement pulls them onto the disk centres.
    gy, gx = g * math.sin(math.radians(60)), g * math.cos(math.radians(60))
    _click(qtbot, widget, cy + gy + 1.5, cx + gx - 1.0)
    assert widget.result is None
    assert len(widget.points) == 1
    with qtbot.waitSignal(widget.finished, timeout=3000):  # type: ignore[attr-defined]
        _click(qtbot, widget, cy - gy - 1.0, cx - gx + 1.5)
    result = widget.result
    assert result.source == "interactive"
    assert result.units == "1/angstrom"
    # Two reflections 2 g apart are 2 / d = 1 / Å apart in k: the pixel size is 1 / (2 * 20 px).
    assert result.ky == pytest.approx(1.0 / (2 * g), rel=0.01)


def test_pickers_feed_the_pipeline() -> None:
    params = SyntheticParams(scan_shape=(6, 6), detector_shape_px=(32, 32), n_clusters=1, bragg_intensity=0.0)
    data, _ = synthesize_array(params)
    calls: list[str] = []

    def pick_centre(pattern: np.ndarray, start: BeamCentre) -> tuple[float, float]:
        calls.append("centre")
        assert start.source == "auto"
        return (15.0, 16.0)

    def pick_kspace(pattern: np.ndarray, start: BeamCentre) -> gui.KCalibration:
        calls.append("kspace")
        assert start.yx == (15.0, 16.0)  # centre picking happens first
        return gui.KCalibration(ky=0.02, kx=0.03, units="1/angstrom", source="interactive")

    settings = PolarSettings(
        dpc=DpcParams(gate_mode="roi"),
        calibration=CalibrationParams(interactive_center=True, interactive_kspace=True),
    )
    result = analyse(ArraySource(data), None, settings, ComputeParams(scheduler="synchronous"),
                     pick_centre=pick_centre, pick_kspace=pick_kspace)
    assert calls == ["centre", "kspace"]
    assert result.centre.source == "interactive"
    assert (result.kcal.ky, result.kcal.kx, result.kcal.source) == (0.02, 0.03, "interactive")


def test_headless_runs_are_told_to_use_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    with pytest.raises(ScopeweaveError, match="center_y_px / center_x_px and calibration.bragg_pairs_px"):
        gui.require_display()
