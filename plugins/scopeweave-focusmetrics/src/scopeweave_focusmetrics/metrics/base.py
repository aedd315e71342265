"""Base class and shared parameters of every focus metric of this plugin.

A metric scores one 2D frame (``__call__``) or a batch (``score_batch``),
reports the saturated fraction, and declares how it reacts to intensity:
``gain_exponent`` ``p`` means ``score(g * I) == g**p * score(I)`` (``0``:
gain invariant) and ``offset_invariant`` says whether ``score(I + b) ==
score(I)``.  Metrics whose score grows with gain take ``normalise = true``,
which divides by ``(mean - offset_adu)**p``: a gain change then does not look
like a focus change.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_focusmetrics import _threads
from scopeweave_focusmetrics._frames import as_batch, as_frame, kernel_ready, saturated_fraction

__all__ = ["FocusMetric", "FrameScore", "GainParams", "SaturationParams", "params_doc"]

_COMMON_DOC = {
    "saturation_level": "Pixel value counted as saturated by saturated_fraction() (default: the dtype's full "
                        "scale; float frames have none unless given).",
    "normalise": "Divide the score by (mean - offset_adu)**p, p the score's gain exponent, so a gain (exposure, "
                 "illumination) change does not look like a focus change.",
    "offset_adu": "Camera baseline (counts) subtracted from the mean before normalising; with the right "
                  "offset the normalised score ignores gain exactly.",
}


def params_doc(summary: str, fields: dict[str, str], *, common: tuple[str, ...] = ("saturation_level",)) -> str:
    """A numpydoc docstring with an ``Attributes`` section (``scopeweave plugins show`` prints it)."""
    lines = [summary, "", "Attributes", "----------"]
    for name, text in {**fields, **{k: _COMMON_DOC[k] for k in common}}.items():
        lines += [name, f"    {text}"]
    return "\n".join(lines) + "\n"


@attrs.frozen(kw_only=True)
class SaturationParams:
    saturation_level: float | None = None


SaturationParams.__doc__ = params_doc("Parameters of a gain-invariant metric.", {})


@attrs.frozen(kw_only=True)
class GainParams(SaturationParams):
    normalise: bool = False
    offset_adu: float = 0.0


GainParams.__doc__ = params_doc("Parameters of a metric whose score scales with gain.", {},
                                common=("saturation_level", "normalise", "offset_adu"))


@attrs.frozen(kw_only=True)
class FrameScore:
    """One frame's score and the fraction of its pixels at or above the saturation level."""

    score: float
    saturated_fraction: float



class FocusMetric(abc.ABC):
    """Base of every metric: input checks, normalisation, batches, saturation.

    Subclasses set the class attributes and implement :meth:`_score` on a
    C-contiguous uint16 / float32 / float64 frame.
    """

    name: ClassVar[str]
    family: ClassVar[str]
    reference: ClassVar[str]
    higher_is_sharper: bool = True
    raw_gain_exponent: ClassVar[float]
    raw_offset_invariant: ClassVar[bool]

    def __init__(self, params: SaturationParams) -> None:
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"

    @property
    def normalised(self) -> bool:
        """Whether the score is divided by the mean intensity to the power of its gain exponent."""
        return bool(getattr(self.params, "normalise", False)) and self.raw_gain_exponent != 0

    @property
    def gain_exponent(self) -> float:
        """``p`` in ``score(g I) = g**p score(I)``; ``0`` means gain invariant."""
        return 0.0 if self.normalised else float(self.raw_gain_exponent)

    @property
    def offset_invariant(self) -> bool:
        """Whether adding a constant to every pixel leaves the score unchanged."""
        return self.raw_offset_invariant and not self.normalised

    def __call__(self, frame: NDArray[np.generic]) -> float:
        """Score one 2D ``(y, x)`` frame."""
        array = as_frame(frame)
        return self._finish(float(self._score(kernel_ready(array))), array)

    def score_batch(self, frames: NDArray[np.generic]) -> NDArray[np.float64]:
        """Score a ``(n, y, x)`` stack (or a sequence of 2D frames); frames run on worker threads."""
        batch = as_batch(frames)
        if len(batch) == 0:
            return np.zeros(0)
        return np.asarray(map_frames(self.__call__, batch), dtype=np.float64)

    def saturated_fraction(self, frame: NDArray[np.generic]) -> float:
        """Fraction of pixels at or above ``saturation_level`` (the dtype's full scale by default)."""
        return saturated_fraction(as_frame(frame), self.params.saturation_level)

    def evaluate(self, frame: NDArray[np.generic]) -> FrameScore:
        """Score and saturated fraction of one frame."""
        return FrameScore(score=self(frame), saturated_fraction=self.saturated_fraction(frame))

    def _finish(self, score: float, frame: NDArray[np.generic]) -> float:
        if not self.normalised:
            return score
        mean = float(np.asarray(frame).mean(dtype=np.float64)) - float(getattr(self.params, "offset_adu", 0.0))
        if not mean > 0:
            return 0.0
        return score / mean ** float(self.raw_gain_exponent)

    @abc.abstractmethod
    def _score(self, frame: NDArray[np.generic]) -> float:
        """The raw score of one frame (before normalisation)."""


def map_frames(function: Callable[[Any], float], frames: Any) -> list[float]:
    """``[function(f) for f in frames]``, on the shared worker threads when that helps."""
    if len(frames) < 2 or _threads.n_threads() == 1 or _threads.in_worker():
        return [function(f) for f in frames]
    return _threads.map_items(function, frames)
