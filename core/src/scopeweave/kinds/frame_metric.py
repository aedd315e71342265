"""The FrameMetric interface: one number per frame that tracks sharpness."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["BatchFrameMetric", "FrameMetric", "score_frames"]


@runtime_checkable
class FrameMetric(Protocol):
    """Scores a 2D ``(y, x)`` frame; ``higher_is_sharper`` says which way focus goes.

    Frames may be uint8, uint16 or float; a metric never modifies its input.
    """

    higher_is_sharper: bool

    def __call__(self, frame: NDArray[np.generic]) -> float:
        """Return the score of one frame."""
        ...


@runtime_checkable
class BatchFrameMetric(FrameMetric, Protocol):
    """A FrameMetric that also scores a ``(n, y, x)`` stack in one call (optional, for speed).

    ``score_batch(frames)[i]`` must equal ``metric(frames[i])``.
    """

    def score_batch(self, frames: NDArray[np.generic]) -> NDArray[np.float64]:
        """Return one score per frame of a ``(n, y, x)`` stack."""
        ...


def score_frames(metric: FrameMetric, frames: NDArray[np.generic] | Sequence[NDArray[np.generic]]) -> NDArray[np.float64]:
    """Score every frame of a ``(n, y, x)`` stack or a sequence of 2D frames with any FrameMetric.

    Uses ``metric.score_batch`` when the metric has one, else calls the metric frame by frame.
    """
    if isinstance(frames, np.ndarray) and frames.ndim == 2:
        frames = frames[np.newaxis]
    if isinstance(frames, np.ndarray) and frames.ndim != 3:
        raise ValueError(f"frames must be a (n, y, x) stack or a sequence of 2D frames (got shape {frames.shape}).")
    same_shape = isinstance(frames, np.ndarray) or len({np.shape(frame) for frame in frames}) <= 1
    if isinstance(metric, BatchFrameMetric) and same_shape:
        stack = frames if isinstance(frames, np.ndarray) else np.stack(frames)
        scores = np.asarray(metric.score_batch(stack), dtype=np.float64)
        if scores.shape != (len(frames),):
            raise ValueError(f"{type(metric).__qualname__}.score_batch returned shape {scores.shape} "
                             f"for {len(frames)} frames.")
        return scores
    return np.array([float(metric(frame)) for frame in frames], dtype=np.float64)
