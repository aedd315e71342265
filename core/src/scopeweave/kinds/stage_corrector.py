"""The StageCorrector interface: predicts true tile positions from stage metadata and learns from stitching."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["StageCorrector"]


@runtime_checkable
class StageCorrector(Protocol):
    """Corrects metadata tile positions and learns from registered ones.

    Positions are ``(x, y)`` in pixels, in acquisition order (the order the
    stage visited the tiles); right is +x and down is +y.  A corrector keeps
    what it learned (per microscope, typically in a settings file).
    """

    def correct(self, metadata_px: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        """Corrected positions, one per metadata position, in the same frame."""
        ...

    def learn(
        self,
        metadata_px: Sequence[tuple[float, float]],
        registered_px: Sequence[tuple[float, float]],
        confidence: Sequence[float],
    ) -> Mapping[str, Any]:
        """Update from registered positions (any common translation) with per-tile confidence in [0, 1].

        Returns a report (JSON-ready); a tile with confidence 0 is ignored.
        """
        ...

    def status(self) -> str:
        """One line on what has been learned so far."""
        ...

    def reset(self) -> None:
        """Forget everything learned."""
        ...
