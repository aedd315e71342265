"""Input checks shared by every metric: shape, dtype, saturation level.

The numba kernels are compiled for three element types only (uint16,
float32, float64); :func:`kernel_ready` converts anything else to one of them
so that a new dtype never triggers a fresh compilation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["as_batch", "as_frame", "default_saturation_level", "kernel_ready", "saturated_fraction"]


def as_frame(frame: object, *, what: str = "frame") -> NDArray[np.generic]:
    """Check that ``frame`` is a real 2D ``(y, x)`` array of at least 3 x 3 pixels."""
    array = np.asarray(frame)
    if array.ndim != 2:
        raise ValueError(f"{what} must be a 2D (y, x) array (got shape {array.shape}); "
                         "use score_batch() for a (n, y, x) stack.")
    if min(array.shape) < 3:
        raise ValueError(f"{what} must be at least 3 x 3 pixels (got shape {array.shape}).")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or np.iscomplexobj(array):
        raise TypeError(f"{what} must hold real numbers (got dtype {array.dtype}).")
    return array


def as_batch(frames: object, *, what: str = "frames") -> NDArray[np.generic] | Sequence[NDArray[np.generic]]:
    """A ``(n, y, x)`` array, or a sequence of 2D frames (shapes may differ)."""
    if isinstance(frames, np.ndarray):
        if frames.ndim == 2:
            return frames[np.newaxis]
        if frames.ndim != 3:
            raise ValueError(f"{what} must be a (n, y, x) array or a sequence of 2D frames (got shape {frames.shape}).")
        return frames
    if isinstance(frames, Iterable):
        items = [as_frame(f, what=f"{what}[{i}]") for i, f in enumerate(frames)]
        return items
    raise TypeError(f"{what} must be an array or a sequence of 2D frames (got {type(frames).__name__}).")


def kernel_ready(frame: NDArray[np.generic]) -> NDArray[np.generic]:
    """A C-contiguous uint16, float32 or float64 view or copy of ``frame``."""
    dtype = frame.dtype
    if dtype in (np.uint16, np.float32, np.float64):
        return np.ascontiguousarray(frame)
    if dtype in (np.uint8, np.bool_):
        return np.ascontiguousarray(frame, dtype=np.uint16)
    if dtype == np.float16:
        return np.ascontiguousarray(frame, dtype=np.float32)
    return np.ascontiguousarray(frame, dtype=np.float64)


def default_saturation_level(dtype: np.dtype[Any]) -> float | None:
    """Full scale of an integer dtype (``255`` for uint8, ``65535`` for uint16); ``None`` for floats."""
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    if dtype == np.bool_:
        return 1.0
    return None


def saturated_fraction(frame: NDArray[Any], level: float | None) -> float:
    """Fraction of pixels at or above ``level`` (the dtype's full scale when ``None``).

    Float frames without an explicit level report 0.0: there is no full scale.
    """
    threshold = level if level is not None else default_saturation_level(frame.dtype)
    if threshold is None:
        return 0.0
    return float(np.count_nonzero(frame >= threshold)) / frame.size
