"""Astigmatic focus lock: elliptical PSF fits, focus models, calibration sweep, closed-loop Z lock.

The public names load lazily (importing the package, as the plugin registry
does, stays cheap)::

    from scopeweave_focuslock import fit_spot, load_calibration
    calibration = load_calibration("calibration_sweep.csv")
    spot = fit_spot(roi_photons, theta_rad=calibration.theta_rad)
    z = calibration.z_from_fit(spot)      # z_um, z_err_um, in_domain
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AxialCRLB": "precision",
    "Calibration": "calibration",
    "CalibrationError": "calibration",
    "CalibrationSamples": "calibration",
    "CalibrateParams": "params",
    "DetectionOptions": "params",
    "GateResult": "gates",
    "GateThresholds": "params",
    "GlobalTheta": "theta",
    "SpotFit": "spotfit",
    "SpotTable": "spotfit",
    "ZEstimate": "models.base",
    "build_calibration": "calibration",
    "fit_spot": "spotfit",
    "global_theta": "theta",
    "load_calibration": "calibration_io",
    "measure_spots": "spotfit",
    "save_calibration": "calibration_io",
    "z_crlb": "precision",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'scopeweave_focuslock' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"scopeweave_focuslock.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
