"""The frame <-> (series, time, z) mapping of ND2 files, and the export-name lookup of seed 001.

An ND2 file stores frames in acquisition ("sequence") order over its loop axes
(``T`` time, ``P`` series / position, ``Z`` plane; channels ``C`` live inside a
frame). :class:`Nd2Index` maps a sequence index to its coordinates and back,
from ``nd2.ND2File.loop_indices`` when the file has them, else from the sizes
in loop order (outermost first). :func:`parse_export_name` and
:class:`WellSeriesTable` pair an exported JPEG (``<date>_<well>_ch<c>_t<t>.jpg``)
with its (well, time, series) and so with the ND2 frame to reload.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

__all__ = ["ExportName", "Nd2Index", "WellSeriesTable", "parse_export_name"]

LOOP_AXES = ("T", "P", "Z")


@attrs.frozen(kw_only=True)
class Nd2Index:
    """Sequence index <-> loop coordinates of one ND2 file.

    Attributes
    ----------
    sizes
        Axis sizes as ``nd2.ND2File.sizes`` reports them (``T``, ``P``, ``Z``, ``C``, ``Y``, ``X``...).
    coords
        ``coords[seq]`` = ``{axis: index}`` of sequence frame ``seq`` over the loop axes.
    frame_axis
        The axis a stack runs along: ``Z`` for z-stacks, else ``T``.
    """

    sizes: Mapping[str, int]
    coords: tuple[Mapping[str, int], ...]
    frame_axis: str

    @classmethod
    def from_sizes(cls, sizes: Mapping[str, int], *, loop_indices: Sequence[Mapping[str, int]] | None = None,
                   frame_axis: str | None = None) -> Nd2Index:
        """Build the index; without ``loop_indices`` the loop axes are nested in ``sizes`` order."""
        loops = [axis for axis in sizes if axis in LOOP_AXES and sizes[axis] > 1]
        if loop_indices:
            coords = tuple({axis: int(entry.get(axis, 0)) for axis in loops} for entry in loop_indices)
        else:
            grid = itertools.product(*(range(sizes[a]) for a in loops))
            coords = tuple(dict(zip(loops, values, strict=True)) for values in grid)
        axis = frame_axis or ("Z" if sizes.get("Z", 1) > 1 else "T")
        if axis not in LOOP_AXES:
            raise ValueError(f"frame_axis must be one of {LOOP_AXES} (got {axis!r}).")
        return cls(sizes=dict(sizes), coords=coords, frame_axis=axis)

    @property
    def n_frames(self) -> int:
        """Frames in the sequence."""
        return len(self.coords)

    def coords_of(self, seq: int) -> dict[str, int]:
        """Coordinates of sequence frame ``seq`` (every loop axis, 0 for axes of size 1)."""
        if not 0 <= seq < self.n_frames:
            raise IndexError(f"ND2 sequence index {seq} is outside 0..{self.n_frames - 1}.")
        return {axis: int(self.coords[seq].get(axis, 0)) for axis in LOOP_AXES}

    def sequence_of(self, **coords: int) -> int:
        """The sequence index of the frame at ``coords`` (missing axes are 0), e.g. ``sequence_of(P=3, T=92)``."""
        wanted = {axis: int(coords.get(axis, 0)) for axis in LOOP_AXES}
        for seq in range(self.n_frames):
            if self.coords_of(seq) == wanted:
                return seq
        raise KeyError(f"no ND2 frame at {wanted} (sizes {dict(self.sizes)}).")

    def stack_selections(self) -> list[tuple[tuple[str, int], ...]]:
        """Every (series, channel, other loop axis) combination whose frames run along ``frame_axis``."""
        fixed = [a for a in ("P", "T", "Z") if a != self.frame_axis and self.sizes.get(a, 1) > 1]
        if self.sizes.get("C", 1) > 1:
            fixed.append("C")
        return [tuple(zip(fixed, values, strict=False)) for values in itertools.product(*(range(self.sizes[a]) for a in fixed))]

    def sequence_for(self, selection: Mapping[str, int]) -> list[int]:
        """Sequence indices of one selection's frames, in ``frame_axis`` order."""
        loops = {a: v for a, v in selection.items() if a in LOOP_AXES}
        members = [seq for seq in range(self.n_frames)
                   if all(self.coords_of(seq)[a] == v for a, v in loops.items())]
        return sorted(members, key=lambda seq: self.coords_of(seq)[self.frame_axis])


@attrs.frozen(kw_only=True)
class ExportName:
    """What an exported image's file name says: well, channel and time index."""

    well: str
    channel: int
    time_index: int


_EXPORT_RE = re.compile(r"(?P<well>[A-Z]\d{2})_ch(?P<channel>\d+)_t(?P<time>\d+)\.\w+$", re.IGNORECASE)


def parse_export_name(path: str | Path, pattern: re.Pattern[str] = _EXPORT_RE) -> ExportName:
    """Parse ``..._<well>_ch<channel>_t<time>.<ext>`` (e.g. ``20250912_B10_ch00_t0092.jpg``).

    ``pattern`` needs the groups ``well``, ``channel`` and ``time``.
    """
    match = pattern.search(Path(path).name)
    if match is None:
        raise ValueError(f"{path}: the name does not match <well>_ch<channel>_t<time> (e.g. B10_ch00_t0092.jpg).")
    return ExportName(well=match["well"].upper(), channel=int(match["channel"]), time_index=int(match["time"]))


@attrs.frozen(kw_only=True)
class WellSeriesTable:
    """Well -> ND2 series number, read from an experiment metadata CSV."""

    series_of_well: Mapping[str, int]
    source: str = ""

    @classmethod
    def from_csv(
        cls, path: str | Path, *, well_column: str = "well", series_column: str = "nd2_series_num"
    ) -> WellSeriesTable:
        """Read the two columns; a well listed twice with different series is an error."""
        file = Path(path)
        mapping: dict[str, int] = {}
        with open(file, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = {well_column, series_column} - set(reader.fieldnames or ())
            if missing:
                raise ValueError(f"{file}: missing column(s) {sorted(missing)} (has {reader.fieldnames}).")
            for line, row in enumerate(reader, start=2):
                well = row[well_column].strip().upper()
                try:
                    series = int(float(row[series_column]))
                except ValueError:
                    raise ValueError(f"{file}, line {line}: {series_column} {row[series_column]!r} is not a number.") from None
                if mapping.get(well, series) != series:
                    raise ValueError(f"{file}, line {line}: well {well} maps to series {mapping[well]} and {series}.")
                mapping[well] = series
        return cls(series_of_well=mapping, source=str(file))

    def nd2_frame(self, export: ExportName, index: Nd2Index, *, series_base: int = 1) -> int:
        """The ND2 sequence index of an exported image (series numbers in the CSV start at ``series_base``)."""
        if export.well not in self.series_of_well:
            raise KeyError(f"well {export.well} is not in {self.source or 'the table'}.")
        series = self.series_of_well[export.well] - series_base
        return index.sequence_of(P=series, T=export.time_index)
