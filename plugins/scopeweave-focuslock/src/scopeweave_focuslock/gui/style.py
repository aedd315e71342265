"""Colours shared by the GUI's widgets (one meaning, one colour, everywhere)."""

from __future__ import annotations

__all__ = ["ELLIPSE", "ROI", "SIGMA_X", "SIGMA_Y", "STATE_COLOURS", "TRUE_ERROR"]

#: Lock state -> colour of the indicator and of the diagnostics points.
STATE_COLOURS = {
    "idle": "#9aa0a6",
    "engaging": "#f2b705",
    "locked": "#1e8e3e",
    "degraded": "#f28b00",
    "lost": "#d93025",
    "recovering": "#8e6bd8",
    "stopped": "#5f6368",
}
ROI = "#00e5ff"
ELLIPSE = "#ff3b30"
SIGMA_X = "#1f77b4"
SIGMA_Y = "#d62728"
TRUE_ERROR = "#2ca02c"
