"""The localization table: one row per localized emitter.

Coordinates follow ThunderSTORM: ``x_nm`` and ``y_nm`` are measured from the
top-left corner of the image, so the centre of pixel (0, 0) is at half a pixel
(``x_nm = (column + 0.5) * pixel_size_nm``).  ``frame`` is 0-based.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scopeweave.kinds.localizer import LOCALIZATION_COLUMNS

__all__ = ["LOCALIZATION_COLUMNS", "LocalizationTable", "nm_to_px", "px_to_nm"]

def px_to_nm(position_px: ArrayLike, pixel_size_nm: float) -> NDArray[np.float64]:
    """Pixel-centre coordinates (centre of pixel 0 at 0) to table nanometres (corner origin)."""
    return (np.asarray(position_px, dtype=np.float64) + 0.5) * pixel_size_nm


def nm_to_px(position_nm: ArrayLike, pixel_size_nm: float) -> NDArray[np.float64]:
    """Table nanometres (corner origin) to pixel-centre coordinates (centre of pixel 0 at 0)."""
    return np.asarray(position_nm, dtype=np.float64) / pixel_size_nm - 0.5


def _float_column(value: ArrayLike) -> NDArray[np.float64]:
    return np.ascontiguousarray(np.asarray(value, dtype=np.float64).reshape(-1))


def _int_column(value: ArrayLike) -> NDArray[np.int64]:
    array = np.asarray(value).reshape(-1)
    if array.dtype.kind == "f" and (not np.all(np.isfinite(array)) or not np.all(array == np.round(array))):
        raise ValueError("'frame' must hold whole numbers.")
    return np.ascontiguousarray(array.astype(np.int64))


@attrs.frozen(kw_only=True, eq=False)
class LocalizationTable:
    """Localizations as aligned 1D columns (see :data:`LOCALIZATION_COLUMNS`).

    Attributes
    ----------
    frame
        0-based frame index (int64).
    x_nm, y_nm
        Position from the top-left image corner, nm.
    photons
        Fitted total photons of the spot.
    background
        Fitted background, photons per pixel.
    sigma_nm
        Fitted Gaussian PSF width, nm.
    uncertainty_nm
        Lateral localization uncertainty (CRLB or its formula), nm.
    """

    frame: NDArray[np.int64] = attrs.field(converter=_int_column)
    x_nm: NDArray[np.float64] = attrs.field(converter=_float_column)
    y_nm: NDArray[np.float64] = attrs.field(converter=_float_column)
    photons: NDArray[np.float64] = attrs.field(converter=_float_column)
    background: NDArray[np.float64] = attrs.field(converter=_float_column)
    sigma_nm: NDArray[np.float64] = attrs.field(converter=_float_column)
    uncertainty_nm: NDArray[np.float64] = attrs.field(converter=_float_column)

    def __attrs_post_init__(self) -> None:
        lengths = {name: len(getattr(self, name)) for name in LOCALIZATION_COLUMNS}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"localization columns differ in length: {lengths}")
        if len(self.frame) and self.frame.min() < 0:
            raise ValueError("'frame' must be >= 0 (frames are 0-based).")

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def empty(cls) -> LocalizationTable:
        """A table with no rows."""
        return cls.from_columns({name: np.zeros(0) for name in LOCALIZATION_COLUMNS})

    @classmethod
    def from_columns(cls, columns: Mapping[str, ArrayLike]) -> LocalizationTable:
        """Build from a mapping holding at least the :data:`LOCALIZATION_COLUMNS`."""
        missing = [name for name in LOCALIZATION_COLUMNS if name not in columns]
        if missing:
            raise ValueError(f"localization table lacks columns {missing} (has {sorted(columns)}).")
        return cls(**{name: columns[name] for name in LOCALIZATION_COLUMNS})

    @classmethod
    def concat(cls, tables: Iterable[LocalizationTable]) -> LocalizationTable:
        """Rows of all ``tables``, in order."""
        parts = list(tables)
        if not parts:
            return cls.empty()
        return cls(**{name: np.concatenate([getattr(t, name) for t in parts]) for name in LOCALIZATION_COLUMNS})

    def columns(self) -> dict[str, NDArray[Any]]:
        """The columns as a plain dict (what the Localizer protocol returns)."""
        return {name: getattr(self, name) for name in LOCALIZATION_COLUMNS}

    def select(self, rows: NDArray[np.bool_] | NDArray[np.intp]) -> LocalizationTable:
        """The rows picked by a boolean mask or an index array."""
        return LocalizationTable(**{name: getattr(self, name)[rows] for name in LOCALIZATION_COLUMNS})

    def sorted_by_frame(self) -> LocalizationTable:
        """Rows in frame order (stable)."""
        return self.select(np.argsort(self.frame, kind="stable"))

    def shift_frames(self, offset: int) -> LocalizationTable:
        """The same rows with ``offset`` added to ``frame``."""
        return attrs.evolve(self, frame=self.frame + int(offset))

    def xy_px(self, pixel_size_nm: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Positions in pixel-centre coordinates (centre of pixel 0 at 0)."""
        return nm_to_px(self.x_nm, pixel_size_nm), nm_to_px(self.y_nm, pixel_size_nm)
