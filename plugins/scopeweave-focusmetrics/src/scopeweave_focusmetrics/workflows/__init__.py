"""Workflows of scopeweave-focusmetrics: frame-qc, focus-calibration, sharpness-autofocus."""
