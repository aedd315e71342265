"""Network inputs from camera frames, shared by training and inference (numpy only).

* Puncta channel: photons (camera counts through the
  :class:`~scopeweave_puncta.camera_model.CameraModel`) divided by
  ``input_scale_photons``.
* Calcium channel: ΔF/F0 = F / F0 - 1 with F in photons.  At inference F0 is
  the per-pixel median over (up to ``F0_MAX_FRAMES`` evenly spaced) frames of
  the movie, smoothed by a Gaussian of ``F0_SMOOTH_PX``; in simulated training
  samples it is the known resting fluorescence.
* Temporal context: the window of frame ``t`` is ``t - h ... t + h``
  (``h = context_frames // 2``), indices clipped at the movie ends.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = [
    "F0_MAX_FRAMES",
    "F0_SMOOTH_PX",
    "calcium_dff",
    "calcium_f0",
    "context_indices",
    "f0_frame_indices",
    "puncta_input",
]

#: Most frames the calcium F0 median is taken over.
F0_MAX_FRAMES = 200
#: Gaussian smoothing (pixels) of the calcium F0 image.
F0_SMOOTH_PX = 1.0
_F0_FLOOR = 1e-3


def puncta_input(photons: NDArray[Any], input_scale_photons: float) -> NDArray[np.float32]:
    """The puncta channel as the network sees it."""
    return (np.asarray(photons, dtype=np.float32) / np.float32(input_scale_photons)).astype(np.float32)


def calcium_f0(frames: NDArray[Any]) -> NDArray[np.float64]:
    """Resting fluorescence F0 ``(y, x)`` of a calcium movie in photons (see module docstring)."""
    stack = np.asarray(frames, dtype=np.float64)
    if stack.ndim != 3 or stack.shape[0] == 0:
        raise ValueError(f"calcium frames must be a non-empty (t, y, x) stack (got shape {stack.shape}).")
    return np.maximum(ndimage.gaussian_filter(np.median(stack, axis=0), F0_SMOOTH_PX, mode="nearest"), _F0_FLOOR)


def f0_frame_indices(n_frames: int) -> NDArray[np.intp]:
    """Frames used for F0: all, or ``F0_MAX_FRAMES`` evenly spaced ones."""
    if n_frames <= F0_MAX_FRAMES:
        return np.arange(n_frames)
    return np.unique(np.linspace(0, n_frames - 1, F0_MAX_FRAMES).round().astype(np.intp))


def calcium_dff(photons: NDArray[Any], f0: NDArray[Any] | float) -> NDArray[np.float32]:
    """ΔF/F0 of calcium frames (photons) given F0 (an image or a number)."""
    base = np.maximum(np.asarray(f0, dtype=np.float64), _F0_FLOOR)
    return (np.asarray(photons, dtype=np.float64) / base - 1.0).astype(np.float32)


def context_indices(frames: NDArray[np.intp], n_frames: int, context_frames: int) -> NDArray[np.intp]:
    """``(len(frames), context_frames)`` frame indices of each window, clipped to ``[0, n_frames)``."""
    half = context_frames // 2
    window = np.asarray(frames, dtype=np.intp)[:, None] + np.arange(-half, half + 1)[None, :]
    return np.clip(window, 0, n_frames - 1)
