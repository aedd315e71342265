"""Ground-truth tables of synthetic samples: emitters (``ground_truth.csv``) and calcium events.

``ground_truth.csv`` has the columns ``frame, x_nm, y_nm, photons, id``: one
row per punctum per frame in which it emits, in the localization table's
coordinates (corner origin, 0-based frames).  ``calcium_events.csv`` has
``event_id, frame, x_nm, y_nm, amplitude_dff, duration_frames, punctum_id``
(``punctum_id`` is -1 for background events away from puncta).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scopeweave.errors import ScopeweaveError
from scopeweave_puncta.csv_tables import read_numeric_csv, write_numeric_csv

__all__ = [
    "CALCIUM_EVENT_COLUMNS",
    "GROUND_TRUTH_COLUMNS",
    "CalciumEvents",
    "GroundTruth",
    "read_calcium_events",
    "read_ground_truth",
    "write_calcium_events",
    "write_ground_truth",
]

GROUND_TRUTH_COLUMNS: tuple[str, ...] = ("frame", "x_nm", "y_nm", "photons", "id")
CALCIUM_EVENT_COLUMNS: tuple[str, ...] = (
    "event_id", "frame", "x_nm", "y_nm", "amplitude_dff", "duration_frames", "punctum_id",
)


def _f64(value: ArrayLike) -> NDArray[np.float64]:
    return np.ascontiguousarray(np.asarray(value, dtype=np.float64).reshape(-1))


def _i64(value: ArrayLike) -> NDArray[np.int64]:
    return np.ascontiguousarray(np.asarray(value, dtype=np.float64).reshape(-1).round().astype(np.int64))


def _same_lengths(instance: Any) -> None:
    lengths = {a.name: len(getattr(instance, a.name)) for a in attrs.fields(type(instance))}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns differ in length: {lengths}")


@attrs.frozen(kw_only=True, eq=False)
class GroundTruth:
    """True emitter positions per frame.

    Attributes
    ----------
    frame
        0-based frame index.
    x_nm, y_nm
        True position (corner origin), nm.
    photons
        Expected photons of the spot in that frame.
    id
        Punctum identity (constant along its trajectory).
    """

    frame: NDArray[np.int64] = attrs.field(converter=_i64)
    x_nm: NDArray[np.float64] = attrs.field(converter=_f64)
    y_nm: NDArray[np.float64] = attrs.field(converter=_f64)
    photons: NDArray[np.float64] = attrs.field(converter=_f64)
    id: NDArray[np.int64] = attrs.field(converter=_i64)

    def __attrs_post_init__(self) -> None:
        _same_lengths(self)

    def __len__(self) -> int:
        return len(self.frame)

    def select(self, rows: NDArray[np.bool_] | NDArray[np.intp]) -> GroundTruth:
        """The rows picked by a mask or index array."""
        return GroundTruth(**{a.name: getattr(self, a.name)[rows] for a in attrs.fields(GroundTruth)})


@attrs.frozen(kw_only=True, eq=False)
class CalciumEvents:
    """Calcium events (true or detected).

    Attributes
    ----------
    event_id
        Identifier of the event.
    frame
        Onset frame (0-based).
    x_nm, y_nm
        Event centre (corner origin), nm.
    amplitude_dff
        Peak ΔF/F0.
    duration_frames
        Frames the event stays active (above 1/e of its peak for true events,
        above threshold for detected ones).
    punctum_id
        The punctum (true id, or track id for detected events) it belongs to; -1 if none.
    """

    event_id: NDArray[np.int64] = attrs.field(converter=_i64)
    frame: NDArray[np.int64] = attrs.field(converter=_i64)
    x_nm: NDArray[np.float64] = attrs.field(converter=_f64)
    y_nm: NDArray[np.float64] = attrs.field(converter=_f64)
    amplitude_dff: NDArray[np.float64] = attrs.field(converter=_f64)
    duration_frames: NDArray[np.int64] = attrs.field(converter=_i64)
    punctum_id: NDArray[np.int64] = attrs.field(converter=_i64)

    def __attrs_post_init__(self) -> None:
        _same_lengths(self)

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def empty(cls) -> CalciumEvents:
        """No events."""
        return cls(**{name: np.zeros(0) for name in CALCIUM_EVENT_COLUMNS})

    def select(self, rows: NDArray[np.bool_] | NDArray[np.intp]) -> CalciumEvents:
        """The rows picked by a mask or index array."""
        return CalciumEvents(**{a.name: getattr(self, a.name)[rows] for a in attrs.fields(CalciumEvents)})

    def columns(self) -> dict[str, NDArray[np.generic]]:
        """The columns as a dict, in :data:`CALCIUM_EVENT_COLUMNS` order."""
        return {name: getattr(self, name) for name in CALCIUM_EVENT_COLUMNS}


def write_ground_truth(truth: GroundTruth, path: str | os.PathLike[str]) -> Path:
    """Write ``ground_truth.csv`` atomically."""
    columns = {name: getattr(truth, name) for name in GROUND_TRUTH_COLUMNS}
    return write_numeric_csv(path, columns, integer_columns=("frame", "id"), float_format="%.4f")


def read_ground_truth(path: str | os.PathLike[str]) -> GroundTruth:
    """Read ``ground_truth.csv``."""
    columns = read_numeric_csv(path, required=GROUND_TRUTH_COLUMNS)
    try:
        return GroundTruth(**{name: columns[name] for name in GROUND_TRUTH_COLUMNS})
    except ValueError as exc:
        raise ScopeweaveError(f"{path}: {exc}") from None


def write_calcium_events(events: CalciumEvents, path: str | os.PathLike[str]) -> Path:
    """Write a calcium event table atomically."""
    return write_numeric_csv(path, events.columns(),
                             integer_columns=("event_id", "frame", "duration_frames", "punctum_id"),
                             float_format="%.4f")


def read_calcium_events(path: str | os.PathLike[str]) -> CalciumEvents:
    """Read a calcium event table."""
    columns = read_numeric_csv(path, required=CALCIUM_EVENT_COLUMNS)
    try:
        return CalciumEvents(**{name: columns[name] for name in CALCIUM_EVENT_COLUMNS})
    except ValueError as exc:
        raise ScopeweaveError(f"{path}: {exc}") from None
