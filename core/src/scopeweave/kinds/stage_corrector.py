"""The StageCorrector interface: predicts true tile positions from stage metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["StageCorrector"]


@runtime_checkable
class StageCorrector(Protocol):
    """Corrects metadata tile positions and learns from registered ones."""

    def correct(self, positions_px: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
        """Return corrected ``(x, y)`` positions for metadata positions in acquisition order."""
        ...

    def learn(
        self,
        metadata_px: Sequence[tuple[float, float]],
        registered_px: Sequence[tuple[float, float]],
        confidence: Sequence[float],
    ) -> Any:
        """Update the model from registered positions with per-tile confidence."""
        ...
