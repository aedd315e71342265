"""Simulated microscope for scopeweave.

Attributes load on first use (PEP 562), so importing the entry-point module
``scopeweave_sim.plugin`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SimAstigmaticCamera": "scopeweave_sim.camera",
    "DriftTerm": "scopeweave_sim.drift",
    "FocusDrift": "scopeweave_sim.drift",
    "FrameFault": "scopeweave_sim.params",
    "SimCameraParams": "scopeweave_sim.params",
    "SimXYParams": "scopeweave_sim.params",
    "SimZParams": "scopeweave_sim.params",
    "ZStackParams": "scopeweave_sim.params",
    "SimXYStage": "scopeweave_sim.stages",
    "SimZStage": "scopeweave_sim.stages",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'scopeweave_sim' has no attribute {name!r}")
