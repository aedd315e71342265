"""Reading TIFF movies lazily: memory-mapped when the file allows, so long movies are read chunk by chunk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tifffile
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError

__all__ = ["open_movie"]


def open_movie(path: Path) -> NDArray[Any]:
    """A ``(t, y, x)`` movie; uncompressed TIFFs are memory-mapped, others are read whole."""
    try:
        array: NDArray[Any] = tifffile.memmap(path, mode="r")
    except (ValueError, OSError, RuntimeError):
        try:
            array = tifffile.imread(path)
        except Exception as exc:  # noqa: BLE001 - tifffile raises many kinds on a bad file
            raise ScopeweaveError(f"{path}: cannot read as a TIFF movie ({exc}).") from None
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ScopeweaveError(f"{path}: expected a (t, y, x) movie, got shape {array.shape}.")
    return array
