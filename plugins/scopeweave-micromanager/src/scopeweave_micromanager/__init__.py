"""Micro-Manager hardware for scopeweave through pymmcore-plus ``UniMMCore``."""

from scopeweave_micromanager.camera import MMCamera, MMCameraParams
from scopeweave_micromanager.core_cache import CORES, CoreCache, SharedCore
from scopeweave_micromanager.stages import MMFocusParams, MMFocusStage, MMXYParams, MMXYStage

__all__ = [
    "CORES",
    "CoreCache",
    "MMCamera",
    "MMCameraParams",
    "MMFocusParams",
    "MMFocusStage",
    "MMXYParams",
    "MMXYStage",
    "SharedCore",
]
