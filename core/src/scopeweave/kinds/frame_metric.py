"""The FrameMetric interface: one number per frame that tracks sharpness."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["FrameMetric"]


@runtime_checkable
class FrameMetric(Protocol):
    """Scores a 2D ``(y, x)`` frame; ``higher_is_sharper`` says which way focus goes.

    Frames may be uint8, uint16 or float; a metric never modifies its input.
    """

    higher_is_sharper: bool

    def __call__(self, frame: NDArray[np.generic]) -> float:
        """Return the score of one frame."""
        ...
