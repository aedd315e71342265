"""Simulated microscope for scopeweave."""

from scopeweave_sim.camera import FrameFault, SimAstigmaticCamera, SimCameraParams
from scopeweave_sim.drift import DriftTerm, FocusDrift
from scopeweave_sim.stages import SimXYParams, SimXYStage, SimZParams, SimZStage

__all__ = [
    "DriftTerm",
    "FocusDrift",
    "FrameFault",
    "SimAstigmaticCamera",
    "SimCameraParams",
    "SimXYParams",
    "SimXYStage",
    "SimZParams",
    "SimZStage",
]
