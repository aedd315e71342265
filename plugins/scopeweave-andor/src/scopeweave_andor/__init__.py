"""Andor sCMOS (SDK3) camera for scopeweave, through pylablib."""

from scopeweave_andor.camera import TRIGGER_MODES, AndorCamera, AndorParams
from scopeweave_andor.sdk import open_sdk3_camera

__all__ = ["TRIGGER_MODES", "AndorCamera", "AndorParams", "open_sdk3_camera"]
