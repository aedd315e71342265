"""The live camera image: LUT controls, the lock ROI and the fitted ellipse.

Pixel ``(i, j)`` of a frame covers ``[j, j + 1) x [i, i + 1)`` in the view
(y down, like the camera), so a spot fitted at ``(x, y)`` in ROI coordinates
(pixel centres at integers) is drawn at ``roi + (x, y) + 0.5``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from pyqtgraph.Qt import QtCore, QtWidgets

from scopeweave.kinds import Roi
from scopeweave_focuslock.gui.settings import COLORMAPS, LutSetting
from scopeweave_focuslock.gui.style import ELLIPSE, ROI
from scopeweave_focuslock.spotfit import SpotFit

__all__ = ["ELLIPSE_SIGMAS", "LiveView", "colormap", "ellipse_points"]

#: The drawn ellipse is this many sigmas wide along each axis.
ELLIPSE_SIGMAS = 2.0
_AUTO_PERCENTILES = (0.5, 99.9)


def ellipse_points(x_px: float, y_px: float, sigma_x_px: float, sigma_y_px: float, theta_rad: float, *,
                   n_sigmas: float = ELLIPSE_SIGMAS, n_points: int = 73) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Outline of the fitted Gaussian at ``n_sigmas`` (sigma_x along the axis at ``theta_rad`` from +x)."""
    t = np.linspace(0.0, 2.0 * math.pi, n_points)
    a, b = n_sigmas * sigma_x_px, n_sigmas * sigma_y_px
    c, s = math.cos(theta_rad), math.sin(theta_rad)
    u, v = a * np.cos(t), b * np.sin(t)
    return x_px + c * u - s * v, y_px + s * u + c * v


def colormap(name: str) -> Any:
    """The pyqtgraph colour map of one of :data:`~scopeweave_focuslock.gui.settings.COLORMAPS`."""
    if name == "gray":
        return pg.ColorMap(pos=[0.0, 1.0], color=[(0, 0, 0), (255, 255, 255)], name="gray")
    return pg.colormap.get(name)


class LiveView(QtWidgets.QWidget):
    """Image, histogram/LUT, draggable and resizable square ROI, ellipse overlay, spot read-out."""

    roi_changed = QtCore.Signal(object)  # Roi, when the operator finished moving or resizing it

    def __init__(self, sensor_shape_px: tuple[int, int], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.sensor_shape_px = sensor_shape_px
        height, width = sensor_shape_px
        self._guard = False
        self.graphics = pg.GraphicsLayoutWidget()
        self.plot = self.graphics.addPlot(row=0, col=0)
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.setLabel("bottom", "x (px)")
        self.plot.setLabel("left", "y (px)")
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.histogram = pg.HistogramLUTItem()
        self.histogram.setImageItem(self.image)
        self.graphics.addItem(self.histogram, row=0, col=1)
        self.roi_item = pg.ROI((0, 0), (15, 15), pen=pg.mkPen(ROI, width=2), snapSize=1.0, translateSnap=True,
                               scaleSnap=True, maxBounds=QtCore.QRectF(0, 0, width, height), removable=False)
        self.roi_item.addScaleHandle((1, 1), (0, 0), lockAspect=True)
        self.roi_item.addScaleHandle((0, 0), (1, 1), lockAspect=True)
        self.roi_item.setZValue(10)
        self.plot.addItem(self.roi_item)
        self.roi_label = pg.TextItem("lock ROI", color=ROI, anchor=(0, 1))
        self.plot.addItem(self.roi_label)
        self.ellipse = pg.PlotCurveItem(pen=pg.mkPen(ELLIPSE, width=2))
        self.centre = pg.ScatterPlotItem(symbol="+", size=12, pen=pg.mkPen(ELLIPSE, width=2), brush=None)
        for item in (self.ellipse, self.centre):
            item.setZValue(11)
            self.plot.addItem(item)
        self.hint = pg.TextItem("press Live to start the camera", color="#dddddd", anchor=(0.5, 0.5))
        self.hint.setPos(width / 2, height / 2)
        self.plot.addItem(self.hint)
        self.plot.setRange(xRange=(0, width), yRange=(0, height), padding=0.02)
        self.spot_label = QtWidgets.QLabel("spot: —")
        self.spot_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.spot_label.setWordWrap(True)
        self.colormap = QtWidgets.QComboBox()
        self.colormap.addItems(COLORMAPS)
        self.auto_levels = QtWidgets.QCheckBox("Auto levels")
        self.level_low = _spin(-1e9, 1e9, 1, "low")
        self.level_high = _spin(-1e9, 1e9, 1, "high")
        self.auto_once = QtWidgets.QPushButton("Fit levels")
        self.auto_once.setToolTip("Set the levels from the current frame once (auto levels off)")
        controls = QtWidgets.QGridLayout()
        controls.addWidget(QtWidgets.QLabel("Colour map"), 0, 0)
        controls.addWidget(self.colormap, 0, 1)
        controls.addWidget(self.auto_levels, 0, 2)
        controls.addWidget(self.auto_once, 0, 3)
        controls.addWidget(QtWidgets.QLabel("Levels"), 1, 0)
        controls.addWidget(self.level_low, 1, 1)
        controls.addWidget(self.level_high, 1, 2)
        controls.setColumnStretch(4, 1)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.spot_label)
        layout.addLayout(controls)
        self._frame: NDArray[Any] | None = None
        self.colormap.currentTextChanged.connect(self._apply_colormap)
        self.auto_levels.toggled.connect(self._auto_toggled)
        self.level_low.valueChanged.connect(self._levels_typed)
        self.level_high.valueChanged.connect(self._levels_typed)
        self.auto_once.clicked.connect(lambda: self.fit_levels())
        self.histogram.sigLevelsChanged.connect(self._levels_dragged)
        self.roi_item.sigRegionChanged.connect(self._place_roi_label)
        self.roi_item.sigRegionChangeFinished.connect(self._roi_finished)
        self.apply_lut(LutSetting())

    # --- LUT -------------------------------------------------------------------------------
    def apply_lut(self, lut: LutSetting) -> None:
        """Show ``lut`` (colour map, auto levels, levels)."""
        self.colormap.setCurrentText(lut.colormap)
        self._apply_colormap(lut.colormap)
        self._set_levels(*lut.levels)
        self.auto_levels.setChecked(lut.auto_levels)

    def lut_setting(self) -> LutSetting:
        """The LUT as shown."""
        low, high = self.levels()
        if not low < high:
            high = low + 1.0
        return LutSetting(auto_levels=self.auto_levels.isChecked(), levels=(low, high),
                          colormap=self.colormap.currentText())

    def levels(self) -> tuple[float, float]:
        """``(low, high)`` display levels."""
        return float(self.level_low.value()), float(self.level_high.value())

    def _apply_colormap(self, name: str) -> None:
        self.histogram.gradient.setColorMap(colormap(name))

    def _set_levels(self, low: float, high: float) -> None:
        self._guard = True
        try:
            self.level_low.setValue(low)
            self.level_high.setValue(high)
            low, high = self.levels()  # as shown (rounded to the boxes' decimals)
            self.histogram.setLevels(low, high)
            self.image.setLevels((low, high))
        finally:
            self._guard = False

    def _auto_toggled(self, on: bool) -> None:
        if on and self._frame is not None:
            self.fit_levels(keep_auto=True)

    def fit_levels(self, *, keep_auto: bool = False) -> None:
        """Levels from the current frame's 0.5th and 99.9th percentiles."""
        if self._frame is None:
            return
        frame = self._frame
        step = max(1, int(math.sqrt(frame.size / 250_000)))  # a few hundred thousand pixels are plenty
        low, high = (float(v) for v in np.percentile(frame[::step, ::step], _AUTO_PERCENTILES))
        self._set_levels(low, high if high > low else low + 1.0)
        if not keep_auto:
            self.auto_levels.setChecked(False)

    def _levels_typed(self) -> None:
        if self._guard:
            return
        low, high = self.levels()
        if low < high:
            self.auto_levels.setChecked(False)
            self._set_levels(low, high)

    def _levels_dragged(self) -> None:
        if self._guard:
            return
        low, high = self.histogram.getLevels()
        self.auto_levels.setChecked(False)
        self._guard = True
        try:
            self.level_low.setValue(low)
            self.level_high.setValue(high)
        finally:
            self._guard = False

    # --- frames ------------------------------------------------------------------------------
    def set_frame(self, frame: NDArray[Any]) -> None:
        """Show a whole-sensor frame with the current LUT."""
        self.hint.setVisible(False)
        self._frame = frame
        self._guard = True
        try:
            self.image.setImage(frame, autoLevels=False, levels=self.levels())
        finally:
            self._guard = False
        if self.auto_levels.isChecked():
            self.fit_levels(keep_auto=True)

    def set_spot(self, spot: SpotFit | None, roi: Roi, *, preview: bool = False) -> None:
        """Draw the fitted ellipse of ``spot`` (ROI coordinates) and write its numbers."""
        usable = spot is not None and spot.is_parametric and all(
            math.isfinite(v) for v in (spot.x_px, spot.y_px, spot.sigma_x_px, spot.sigma_y_px))
        if spot is None or not usable:
            self.ellipse.setData([], [])
            self.centre.setData([], [])
            reason = "" if spot is None else f" ({spot.reason.replace('_', ' ') or 'no parametric fit'})"
            self.spot_label.setText(f"spot: not found in the ROI{reason}")
            return
        x = roi.x_px + spot.x_px + 0.5
        y = roi.y_px + spot.y_px + 0.5
        theta = spot.theta_rad if math.isfinite(spot.theta_rad) else 0.0
        ex, ey = ellipse_points(x, y, spot.sigma_x_px, spot.sigma_y_px, theta)
        self.ellipse.setData(ex, ey)
        self.centre.setData([x], [y])
        kind = "display fit, no calibration" if preview else spot.sample_class.replace("_", " ")
        edge = " · <b style='color:#d93025'>touches the ROI edge</b>" if spot.edge else ""
        self.spot_label.setText(
            f"<span style='color:{ELLIPSE}'>&#9711;</span> spot at x {roi.x_px + spot.x_px:.2f}, "
            f"y {roi.y_px + spot.y_px:.2f} px · σ<sub>x</sub> {spot.sigma_x_px:.2f} px · "
            f"σ<sub>y</sub> {spot.sigma_y_px:.2f} px · θ {math.degrees(theta):+.1f}° · "
            f"{spot.photons:.0f} photons ({kind}; ellipse at {ELLIPSE_SIGMAS:g} σ){edge}"
        )

    # --- ROI ----------------------------------------------------------------------------------
    def set_roi(self, roi: Roi) -> None:
        """Move the drawn ROI without reporting it back."""
        self.roi_item.setPos((roi.x_px, roi.y_px), update=False, finish=False)
        self.roi_item.setSize((roi.width_px, roi.height_px), update=True, finish=False)
        self._place_roi_label()

    def roi(self) -> Roi:
        """The drawn ROI (square, whole pixels, inside the sensor)."""
        height, width = self.sensor_shape_px
        pos, size = self.roi_item.pos(), self.roi_item.size()
        side = max(7, min(round(max(size.x(), size.y())), width, height))
        x = min(max(round(pos.x()), 0), width - side)
        y = min(max(round(pos.y()), 0), height - side)
        return Roi(x_px=x, y_px=y, width_px=side, height_px=side)

    def _place_roi_label(self) -> None:
        pos = self.roi_item.pos()
        self.roi_label.setPos(pos.x(), pos.y())

    def _roi_finished(self) -> None:
        roi = self.roi()
        current = self.roi_item.pos(), self.roi_item.size()
        if (current[0].x(), current[0].y(), current[1].x(), current[1].y()) != (roi.x_px, roi.y_px, roi.width_px,
                                                                                 roi.height_px):
            self.set_roi(roi)
        self.roi_changed.emit(roi)


def _spin(low: float, high: float, decimals: int, name: str) -> QtWidgets.QDoubleSpinBox:
    spin = QtWidgets.QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setAccelerated(True)
    spin.setKeyboardTracking(False)
    spin.setMinimumWidth(80)
    spin.setObjectName(name)
    return spin
