"""Diagnostics plots: error, stage z, fit quality and the two widths against time.

The error points are coloured by the lock state (the indicator's colours);
with a simulated camera the true error is drawn too.  The fit quality is
drawn for frames with a fitted spot only.  The plots show the
last :data:`WINDOW_SAMPLES` iterations and redraw at the GUI's pace, not the
loop's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtWidgets

from scopeweave_focuslock.gui.style import SIGMA_X, SIGMA_Y, STATE_COLOURS, TRUE_ERROR
from scopeweave_focuslock.lock.runner import LockSample

__all__ = ["WINDOW_SAMPLES", "DiagnosticsPanel"]

#: How many of the latest iterations the plots show.
WINDOW_SAMPLES = 3000


class DiagnosticsPanel(QtWidgets.QWidget):
    """Four stacked plots sharing the time axis."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.error_plot = self.graphics.addPlot(row=0, col=0)
        self.stage_plot = self.graphics.addPlot(row=1, col=0)
        self.quality_plot = self.graphics.addPlot(row=2, col=0)
        self.width_plot = self.graphics.addPlot(row=3, col=0)
        self.error_plot.setLabel("left", "error nm")
        self.stage_plot.setLabel("left", "stage µm")
        self.quality_plot.setLabel("left", "quality")
        self.quality_plot.setYRange(0.0, 1.05)
        self.width_plot.setLabel("left", "σ px")
        self.width_plot.setLabel("bottom", "time (s)")
        for plot in (self.error_plot, self.stage_plot, self.quality_plot, self.width_plot):
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.getAxis("left").setWidth(64)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
            if plot is not self.width_plot:
                plot.hideAxis("bottom")
            if plot is not self.error_plot:
                plot.setXLink(self.error_plot)
        self.error_plot.addItem(pg.InfiniteLine(0.0, angle=0, pen=pg.mkPen("#888888", width=1)))
        self.error_points = pg.ScatterPlotItem(size=5, pen=None)
        self.error_plot.addItem(self.error_points)
        self.true_error = self.error_plot.plot(pen=pg.mkPen(TRUE_ERROR, width=1.5))
        self.stage_curve = self.stage_plot.plot(pen=pg.mkPen("#1a73e8", width=1.5))
        self.quality_curve = self.quality_plot.plot(pen=pg.mkPen("#8e6bd8", width=1.5))
        self.sigma_x = self.width_plot.plot(pen=pg.mkPen(SIGMA_X, width=1.5))
        self.sigma_y = self.width_plot.plot(pen=pg.mkPen(SIGMA_Y, width=1.5))
        legend = " ".join(f"<span style='color:{colour}'>&#9679;</span>&nbsp;{state}"
                          for state, colour in STATE_COLOURS.items())
        self.legend = QtWidgets.QLabel(
            f"<b>error</b> by lock state: {legend} · <span style='color:{TRUE_ERROR}'>&#9473;</span> true error "
            f"(simulated camera) &nbsp; <b>σ</b>: <span style='color:{SIGMA_X}'>&#9473;</span> σx "
            f"<span style='color:{SIGMA_Y}'>&#9473;</span> σy &nbsp; <b>quality</b>: fit quality (1 = clean spot)")
        self.legend.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(self.graphics, 1)
        self._brushes = {state: pg.mkBrush(colour) for state, colour in STATE_COLOURS.items()}
        self.n_shown = 0

    def show_samples(self, samples: Sequence[LockSample]) -> None:
        """Redraw from the latest :data:`WINDOW_SAMPLES` samples."""
        tail = samples[-WINDOW_SAMPLES:]
        self.n_shown = len(tail)
        if not tail:
            return
        t = np.array([s.t_s for s in tail])
        error = np.array([s.error_nm for s in tail])
        ok = np.isfinite(error)
        self.error_points.setData(t[ok], error[ok], brush=[self._brushes.get(s.state, self._brushes["idle"])
                                                           for s, keep in zip(tail, ok, strict=True) if keep])
        true_error = np.array([s.true_error_nm for s in tail])
        self.true_error.setData(t, true_error, connect="finite")
        self.stage_curve.setData(t, np.array([s.stage_z_um for s in tail]))
        fitted = np.array([math.isfinite(s.sigma_x_px) for s in tail])
        quality = np.where(fitted, np.array([s.quality for s in tail]), np.nan)  # quality of fitted frames only
        self.quality_curve.setData(t, quality, connect="finite")
        self.sigma_x.setData(t, np.array([s.sigma_x_px for s in tail]), connect="finite")
        self.sigma_y.setData(t, np.array([s.sigma_y_px for s in tail]), connect="finite")
        if not any(math.isfinite(v) for v in true_error):
            self.true_error.setData([], [])
