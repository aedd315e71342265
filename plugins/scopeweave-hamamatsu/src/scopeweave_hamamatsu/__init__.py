"""Hamamatsu ORCA (DCAM-API) camera for scopeweave, through pylablib."""

from scopeweave_hamamatsu.camera import TRIGGER_MODES, OrcaCamera, OrcaParams
from scopeweave_hamamatsu.sdk import open_dcam_camera

__all__ = ["TRIGGER_MODES", "OrcaCamera", "OrcaParams", "open_dcam_camera"]
