"""Shared base of the scopeweave cameras driven through pylablib (a library: it registers nothing).

Importing it does not import pylablib; :func:`open_pylablib_camera` does, when a camera starts.
Test helpers for the vendor plugins are in :mod:`scopeweave_pylablib.testing` (it needs pytest).
"""

from scopeweave_pylablib.camera import PylablibCamera
from scopeweave_pylablib.params import PylablibCameraParams, at_least, bit_depth, positive, roi_px
from scopeweave_pylablib.sdk import PYLABLIB_HINT, open_pylablib_camera

__all__ = [
    "PYLABLIB_HINT",
    "PylablibCamera",
    "PylablibCameraParams",
    "at_least",
    "bit_depth",
    "open_pylablib_camera",
    "positive",
    "roi_px",
]
