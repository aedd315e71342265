"""Calibration in the GUI: the sweep button and progress, the plot with the fit, the gates, accept/reject/save."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import QtCore, QtGui, QtWidgets

from scopeweave_focuslock.calibration import Calibration
from scopeweave_focuslock.gates import GateResult
from scopeweave_focuslock.gui.session import CalibrationCandidate
from scopeweave_focuslock.gui.style import SIGMA_X, SIGMA_Y
from scopeweave_focuslock.models.base import ellipticity

__all__ = ["CalibrationPanel", "gate_row"]

#: gate -> (how the value must compare with the threshold, unit)
_GATE_FORMS = {
    "parametric_samples": ("≥", ""),
    "residual_rms": ("≤", " nm"),
    "usable_range": ("≥", " µm"),
    "sign_consistency": ("≥", ""),
    "roi_clipping": ("≤", ""),
}
_PASS, _FAIL = "#137333", "#a50e0e"


def gate_row(gate: GateResult) -> tuple[str, str, str, str]:
    """``(name, value, limit, verdict)`` as shown in the gates table."""
    relation, unit = _GATE_FORMS.get(gate.name, ("", ""))
    value = f"{gate.value:.3g}{unit}" if math.isfinite(gate.value) else "—"
    limit = f"{relation} {gate.threshold:.3g}{unit}".strip() if gate.name in _GATE_FORMS else "—"
    return gate.name.replace("_", " "), value, limit, "pass" if gate.passed else "FAIL"


class CalibrationPanel(QtWidgets.QWidget):
    """Sweep settings and button, progress, plot with the fit preview, gates, accept/reject/save/load."""

    def __init__(self, *, half_range_um: float, n_steps: int, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.candidate: CalibrationCandidate | None = None
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("w")
        self.legend = pg.LegendItem(colCount=4, labelTextColor="k", labelTextSize="8pt")
        self.graphics.addItem(self.legend, row=0, col=0)
        self.widths_plot = self.graphics.addPlot(row=1, col=0)
        self.widths_plot.setLabel("left", "PSF sigma (px)")
        self.widths_plot.hideAxis("bottom")
        self.ellipticity_plot = self.graphics.addPlot(row=2, col=0)
        self.ellipticity_plot.setLabel("left", "ellipticity")
        self.ellipticity_plot.setLabel("bottom", "z relative to the sweep centre (µm)")
        self.ellipticity_plot.setXLink(self.widths_plot)
        for plot in (self.widths_plot, self.ellipticity_plot):
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.getAxis("left").setWidth(56)
            for axis in ("left", "bottom"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
        self.title = QtWidgets.QLabel("No calibration sweep yet: place the ROI on one bright spot and press "
                                      "<b>Run calibration sweep</b>.")
        self.title.setWordWrap(True)

        self.half_range = QtWidgets.QDoubleSpinBox()
        self.half_range.setRange(0.05, 50.0)
        self.half_range.setDecimals(2)
        self.half_range.setSingleStep(0.1)
        self.half_range.setSuffix(" µm")
        self.half_range.setValue(half_range_um)
        self.steps = QtWidgets.QSpinBox()
        self.steps.setRange(5, 1001)
        self.steps.setValue(n_steps)
        self.sweep_button = QtWidgets.QPushButton("Run calibration sweep")
        self.sweep_button.setToolTip("Sweep Z through focus around the current position, fitting the spot in the ROI")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.gates = QtWidgets.QTableWidget(0, 4)
        self.gates.setHorizontalHeaderLabels(["quality gate", "value", "limit", "verdict"])
        self.gates.verticalHeader().setVisible(False)
        self.gates.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.gates.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.gates.horizontalHeader().setStretchLastSection(True)
        self.accept_button = QtWidgets.QPushButton("Accept")
        self.accept_button.setToolTip("Arm the lock with this calibration")
        self.reject_button = QtWidgets.QPushButton("Reject")
        self.save_button = QtWidgets.QPushButton("Save…")
        self.load_button = QtWidgets.QPushButton("Load…")
        self.load_last_button = QtWidgets.QPushButton("Load last")
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)

        self.gates.verticalHeader().setDefaultSectionSize(22)
        self.gates.setMinimumHeight(6 * 22 + 28)
        sweep = QtWidgets.QGridLayout()
        sweep.addWidget(QtWidgets.QLabel("half range"), 0, 0)
        sweep.addWidget(self.half_range, 0, 1)
        sweep.addWidget(QtWidgets.QLabel("steps"), 0, 2)
        sweep.addWidget(self.steps, 0, 3)
        sweep.addWidget(self.sweep_button, 1, 0, 1, 3)
        sweep.addWidget(self.cancel_button, 1, 3)
        decide = QtWidgets.QHBoxLayout()
        for button in (self.accept_button, self.reject_button, self.save_button, self.load_button,
                       self.load_last_button):
            decide.addWidget(button)
        side = QtWidgets.QVBoxLayout()
        side.setSpacing(4)
        side.addLayout(sweep)
        side.addWidget(self.progress)
        side.addWidget(self.gates, 1)
        side.addLayout(decide)
        side.addWidget(self.status)
        side_widget = QtWidgets.QWidget()
        side_widget.setLayout(side)
        side_widget.setFixedWidth(460)
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.title)
        left.addWidget(self.graphics, 1)
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(left, 1)
        layout.addWidget(side_widget)
        self.set_candidate(None)

    # --- sweep progress --------------------------------------------------------------------------
    def set_busy(self, what: str) -> None:
        """``sweep``, ``fit`` or ``""`` (idle)."""
        self.sweep_button.setEnabled(not what)
        self.cancel_button.setEnabled(what == "sweep")
        if what == "fit":
            self.progress.setRange(0, 0)  # busy indicator while fitting
            self.progress.setFormat("fitting the sweep…")
        elif what == "sweep":
            self.progress.setRange(0, max(1, self.steps.value()))
            self.progress.setValue(0)
            self.progress.setFormat("acquiring %v / %m")
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if self.candidate is not None else 0)
            self.progress.setFormat("done" if self.candidate is not None else "idle")
        self._update_buttons(busy=bool(what))

    def show_progress(self, done: int, total: int) -> None:
        """One more sweep step acquired."""
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    # --- the calibration ---------------------------------------------------------------------------
    def set_candidate(self, candidate: CalibrationCandidate | None, *, accepted: bool = False) -> None:
        """Show ``candidate``: plot, gates, verdict (``accepted``: it is the one arming the lock)."""
        self.candidate = candidate
        self.accepted = accepted
        for plot in (self.widths_plot, self.ellipticity_plot):
            plot.clear()
        self.legend.clear()
        self.gates.setRowCount(0)
        if candidate is not None:
            self._plot(candidate.calibration)
            self._fill_gates(candidate.calibration.gates)
            self._write_title(candidate)
        self._update_buttons(busy=False)

    def mark_accepted(self) -> None:
        """The shown calibration now arms the lock."""
        self.accepted = True
        if self.candidate is not None:
            self._write_title(self.candidate)
        self._update_buttons(busy=False)

    def _update_buttons(self, *, busy: bool) -> None:
        c = self.candidate
        self.accept_button.setEnabled(not busy and c is not None and c.calibration.armable and not self.accepted)
        self.reject_button.setEnabled(not busy and c is not None and not self.accepted)
        self.save_button.setEnabled(not busy and c is not None)
        self.load_button.setEnabled(not busy)

    def _write_title(self, candidate: CalibrationCandidate) -> None:
        calibration = candidate.calibration
        verdict = (f"<b style='color:{_PASS}'>passes every gate</b>" if calibration.armable
                   else f"<b style='color:{_FAIL}'>failed: {', '.join(g.name for g in calibration.failed_gates)}"
                        " — it cannot arm the lock</b>")
        where = f" ({candidate.path.name})" if candidate.path is not None else ""
        state = " · <b>accepted: arms the lock</b>" if self.accepted else (" · review it, then Accept or Reject"
                                                                            if calibration.armable else "")
        self.title.setText(f"{calibration.summary()}{where}<br>{verdict}{state}")

    def _fill_gates(self, gates: tuple[GateResult, ...]) -> None:
        self.gates.setRowCount(len(gates))
        for row, gate in enumerate(gates):
            for column, text in enumerate(gate_row(gate)):
                item = QtWidgets.QTableWidgetItem(text)
                item.setToolTip(gate.message)
                if column == 3:
                    item.setForeground(QtGui.QColor(_PASS if gate.passed else _FAIL))
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.gates.setItem(row, column, item)

    def _plot(self, calibration: Calibration) -> None:
        s = calibration.samples
        used, fallback = s.in_model_fit, ~s.parametric
        edge_out = s.parametric & ~s.in_model_fit
        for values, colour, name in ((s.sigma_x_px, SIGMA_X, "σx"), (s.sigma_y_px, SIGMA_Y, "σy")):
            self._legend(self.widths_plot.plot(s.z_um[used], values[used], pen=None, symbol="o", symbolSize=6,
                                               symbolBrush=colour, symbolPen=None), f"{name} fitted")
            if edge_out.any():
                self._legend(self.widths_plot.plot(s.z_um[edge_out], values[edge_out], pen=None, symbol="o",
                                                   symbolSize=7, symbolBrush=None, symbolPen=colour),
                             f"{name} at ROI edge (not used)")
            if fallback.any():
                self._legend(self.widths_plot.plot(s.z_um[fallback], values[fallback], pen=None, symbol="x",
                                                   symbolSize=7, symbolPen=colour), f"{name} fallback (not used)")
        e = ellipticity(s.sigma_x_px, s.sigma_y_px)
        self._legend(self.ellipticity_plot.plot(s.z_um[used], e[used], pen=None, symbol="o", symbolSize=6,
                                                symbolBrush="k", symbolPen=None), "ellipticity")
        if fallback.any():
            self.ellipticity_plot.plot(s.z_um[fallback], e[fallback], pen=None, symbol="x", symbolSize=7,
                                       symbolPen="#888888")
        model = calibration.model
        if model is None or len(s) == 0:
            return
        z_fine = np.linspace(float(np.nanmin(s.z_um)), float(np.nanmax(s.z_um)), 300)
        widths = getattr(model, "widths_px", None)
        if widths is not None:
            wx, wy = widths(z_fine)
            self._legend(self.widths_plot.plot(z_fine, wx, pen=pg.mkPen(SIGMA_X, width=2)), "model σx")
            self._legend(self.widths_plot.plot(z_fine, wy, pen=pg.mkPen(SIGMA_Y, width=2)), "model σy")
        signal: Any = getattr(model, "ellipticity_at", None)
        if signal is not None:
            self._legend(self.ellipticity_plot.plot(z_fine, signal(z_fine), pen=pg.mkPen("k", width=2)),
                         "model ellipticity")
        low, high = model.usable_range_um
        for plot in (self.widths_plot, self.ellipticity_plot):
            region = pg.LinearRegionItem((low, high), movable=False, brush=pg.mkBrush(44, 160, 44, 40), pen=None)
            region.setZValue(-10)
            plot.addItem(region)
            plot.addItem(pg.InfiniteLine(model.focus_um, angle=90, pen=pg.mkPen("#2ca02c", width=1.5,
                                                                                   style=QtCore.Qt.PenStyle.DashLine)))
        self.legend.addItem(pg.BarGraphItem(x=[0], height=[1], width=1, brush=pg.mkBrush(44, 160, 44, 90), pen=None),
                            f"usable range {low:+.2f}..{high:+.2f} µm")
        self.legend.addItem(pg.PlotDataItem(pen=pg.mkPen("#2ca02c", width=1.5, style=QtCore.Qt.PenStyle.DashLine)),
                            f"focus {model.focus_um:+.3f} µm")

    def _legend(self, item: Any, name: str) -> Any:
        self.legend.addItem(item, name)
        return item
