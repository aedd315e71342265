"""Interactive beam-centre picking and k-space calibration (pyqtgraph).

Both windows show the mean pattern with pixel centres at integer
coordinates (y down).  The centre picker shows the auto-detected centre as
red dashed crosshairs and takes one click.  The k-space calibrator shows the
pattern on a log scale with the beam centre, a guide circle through the
cursor and, after the first click, the point opposite it; two clicks on
opposite reflections (each refined to its local centre of mass) give the
pixel size (:func:`~scopeweave_4dstem.calibration.k_from_bragg_pairs`).

The same results come without a window from the parameters
``calibration.center_y_px / center_x_px`` and ``calibration.bragg_pairs_px``
with ``known_spacing_angstrom``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError
from scopeweave_4dstem.calibration import KCalibration, k_from_bragg_pairs
from scopeweave_4dstem.centre import BeamCentre, refine_peak

__all__ = ["CentrePicker", "KSpaceCalibrator", "calibrate_kspace", "pick_centre", "require_display"]


def require_display() -> None:
    """Raise a clear error when no window can be shown (headless runs use the parameters instead)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    headless = platform in ("offscreen", "minimal") or (
        sys.platform.startswith("linux") and not platform and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    )
    if headless:
        raise ScopeweaveError(
            "interactive calibration needs a display (none here); for a headless run give "
            "calibration.center_y_px / center_x_px and calibration.bragg_pairs_px with known_spacing_angstrom."
        )
    try:
        import pyqtgraph  # noqa: F401
    except ImportError as exc:
        raise ScopeweaveError(
            f"interactive calibration needs pyqtgraph and a Qt binding ({exc}); pip install scopeweave-4dstem[gui]."
        ) from None


def _app() -> Any:
    from pyqtgraph.Qt import QtWidgets

    return QtWidgets.QApplication.instance() or QtWidgets.QApplication([])


def _make_view_class() -> type:
    import pyqtgraph as pg
    from pyqtgraph.Qt import QtCore, QtWidgets

    class PatternView(QtWidgets.QWidget):
        """A pattern in a zoomable view; subclasses handle clicks in pixel coordinates."""

        finished = QtCore.Signal()

        def __init__(self, pattern: NDArray[np.floating[Any]], centre: BeamCentre, title: str, *, log_scale: bool) -> None:
            super().__init__()
            self.setWindowTitle(title)
            self.pattern = np.asarray(pattern, dtype=np.float64)
            self.centre = centre
            layout = QtWidgets.QVBoxLayout(self)
            self.hint = QtWidgets.QLabel()
            layout.addWidget(self.hint)
            self.plot = pg.PlotWidget()
            layout.addWidget(self.plot)
            shown = np.log1p(np.maximum(self.pattern - self.pattern.min(), 0)) if log_scale else self.pattern
            self.image = pg.ImageItem(shown, axisOrder="row-major")
            ny, nx = self.pattern.shape
            # Pixel (i, j) covers [j - 0.5, j + 0.5) x [i - 0.5, i + 0.5): view coordinates are pixel coordinates.
            self.image.setRect(QtCore.QRectF(-0.5, -0.5, nx, ny))
            self.image.setLookupTable(pg.colormap.get("magma").getLookupTable())
            self.plot.addItem(self.image)
            self.view_box = self.plot.getViewBox()
            self.view_box.invertY(True)
            self.view_box.setAspectLocked(True)
            self.plot.scene().sigMouseClicked.connect(self._scene_clicked)
            self.resize(620, 660)

        def to_view(self, y_px: float, x_px: float) -> Any:
            """Widget-viewport position of a pixel coordinate (for tests and overlays)."""
            scene = self.view_box.mapViewToScene(QtCore.QPointF(x_px, y_px))
            return self.plot.mapFromScene(scene)

        def _scene_clicked(self, event: Any) -> None:
            if event.button() != QtCore.Qt.MouseButton.LeftButton:
                return
            point = self.view_box.mapSceneToView(event.scenePos())
            self.clicked(float(point.y()), float(point.x()))

        def clicked(self, y_px: float, x_px: float) -> None:
            """A plain pattern view ignores clicks; the pickers below act on them."""

        def closeEvent(self, event: Any) -> None:
            self.finished.emit()
            super().closeEvent(event)

    return PatternView


_CLASSES: dict[str, type] = {}


def _classes() -> dict[str, type]:
    if _CLASSES:
        return _CLASSES
    import pyqtgraph as pg
    from pyqtgraph.Qt import QtCore

    pattern_view = _make_view_class()
    dashed = pg.mkPen("r", width=1.5, style=QtCore.Qt.PenStyle.DashLine)

    class CentrePickerWidget(pattern_view):  # type: ignore[misc, valid-type]
        """Click once on the beam centre; red dashed crosshairs mark the auto-detected one."""

        def __init__(self, pattern: NDArray[np.floating[Any]], centre: BeamCentre) -> None:
            super().__init__(pattern, centre, "Pick the beam centre", log_scale=False)
            self.hint.setText(
                f"Click the beam centre. Auto-detected (red dashed): y = {centre.y_px:.2f}, x = {centre.x_px:.2f} px"
            )
            self.plot.addItem(pg.InfiniteLine(pos=centre.x_px, angle=90, pen=dashed))
            self.plot.addItem(pg.InfiniteLine(pos=centre.y_px, angle=0, pen=dashed))
            self.result: tuple[float, float] | None = None

        def clicked(self, y_px: float, x_px: float) -> None:
            self.result = (y_px, x_px)
            self.close()

    class KSpaceCalibratorWidget(pattern_view):  # type: ignore[misc, valid-type]
        """Click two opposite reflections (180° apart); the pixel size follows from their spacing."""

        def __init__(
            self,
            pattern: NDArray[np.floating[Any]],
            centre: BeamCentre,
            *,
            spacing_angstrom: float | None,
            refine_radius_px: float,
        ) -> None:
            super().__init__(pattern, centre, "Calibrate k: click two opposite reflections", log_scale=True)
            self.spacing_angstrom = spacing_angstrom
            self.refine_radius_px = refine_radius_px
            unit = f"d = {spacing_angstrom} Å" if spacing_angstrom else "relative units (radius 1)"
            self.hint.setText(f"Click a reflection, then the one opposite it ({unit}).")
            self.points: list[tuple[float, float]] = []
            self.result: KCalibration | None = None
            self.plot.addItem(pg.ScatterPlotItem([centre.x_px], [centre.y_px], symbol="+", size=14, pen=pg.mkPen("c")))
            self.guide = pg.QtWidgets.QGraphicsEllipseItem()
            self.guide.setPen(pg.mkPen("w", width=1, style=QtCore.Qt.PenStyle.DotLine))
            self.plot.addItem(self.guide)
            self.marks = pg.ScatterPlotItem(symbol="o", size=12, pen=pg.mkPen("g", width=2), brush=None)
            self.plot.addItem(self.marks)
            self.opposite = pg.ScatterPlotItem(symbol="x", size=12, pen=pg.mkPen("y", width=2))
            self.plot.addItem(self.opposite)
            self.plot.scene().sigMouseMoved.connect(self._moved)

        def _moved(self, scene_pos: Any) -> None:
            point = self.view_box.mapSceneToView(scene_pos)
            radius = float(np.hypot(point.y() - self.centre.y_px, point.x() - self.centre.x_px))
            self.guide.setRect(self.centre.x_px - radius, self.centre.y_px - radius, 2 * radius, 2 * radius)

        def clicked(self, y_px: float, x_px: float) -> None:
            self.points.append(refine_peak(self.pattern, y_px, x_px, self.refine_radius_px))
            self.marks.setData([p[1] for p in self.points], [p[0] for p in self.points])
            if len(self.points) == 1:
                (py, px), (cy, cx) = self.points[0], self.centre.yx
                self.opposite.setData([2 * cx - px], [2 * cy - py])
                self.hint.setText("Now click the reflection opposite it (yellow cross: mirror through the centre).")
                return
            try:
                calibration = k_from_bragg_pairs([self.points[:2]], self.spacing_angstrom)
            except ValueError as exc:
                self.points.clear()
                self.marks.setData([], [])
                self.hint.setText(f"{exc} Click the first reflection again.")
                return
            self.result = attrs.evolve(calibration, source="interactive")
            self.close()

    _CLASSES.update(CentrePicker=CentrePickerWidget, KSpaceCalibrator=KSpaceCalibratorWidget)
    return _CLASSES


def CentrePicker(pattern: NDArray[np.floating[Any]], centre: BeamCentre) -> Any:
    """The centre-picking widget (``.result`` is ``(y, x)`` after a click; ``finished`` when it closes)."""
    _app()
    return _classes()["CentrePicker"](pattern, centre)


def KSpaceCalibrator(
    pattern: NDArray[np.floating[Any]], centre: BeamCentre, *, spacing_angstrom: float | None, refine_radius_px: float = 3.0
) -> Any:
    """The k-space calibration widget (``.result`` is a :class:`KCalibration` after two clicks)."""
    _app()
    return _classes()["KSpaceCalibrator"](pattern, centre, spacing_angstrom=spacing_angstrom, refine_radius_px=refine_radius_px)


def _run_modal(widget: Any) -> None:
    from pyqtgraph.Qt import QtCore

    loop = QtCore.QEventLoop()
    widget.finished.connect(loop.quit)
    widget.show()
    loop.exec()


def pick_centre(pattern: NDArray[np.floating[Any]], centre: BeamCentre) -> tuple[float, float] | None:
    """Show the picker and wait; the clicked ``(y, x)``, or ``None`` if the window was closed."""
    widget = CentrePicker(pattern, centre)
    _run_modal(widget)
    result: tuple[float, float] | None = widget.result
    return result


def calibrate_kspace(
    pattern: NDArray[np.floating[Any]], centre: BeamCentre, *, spacing_angstrom: float | None, refine_radius_px: float = 3.0
) -> KCalibration | None:
    """Show the calibrator and wait; the calibration, or ``None`` if the window was closed."""
    widget = KSpaceCalibrator(pattern, centre, spacing_angstrom=spacing_angstrom, refine_radius_px=refine_radius_px)
    _run_modal(widget)
    result: KCalibration | None = widget.result
    return result
