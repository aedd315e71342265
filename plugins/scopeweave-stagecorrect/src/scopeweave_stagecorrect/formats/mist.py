"""MIST global positions: ``global-positions-{t}.txt`` (read and write).

One line per tile (``lib/imagetile/Stitching.java``)::

    file: img_r001_c001.tif; corr: 0.9876; position: (0, 0); grid: (0, 0);

Positions are integer pixels; ``grid`` is ``(col, row)``; ``corr`` is the NCC of
the tile's spanning-tree link (the confidence used for learning, clipped to
``[0, 1]``).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path

import attrs

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError

__all__ = ["MistError", "MistTile", "format_global_positions", "parse_global_positions", "read_global_positions",
           "write_global_positions"]

_FIELD_RE = re.compile(r"(\S+): (\(\s*-?\d+(?:\.\d*)?,\s*-?\d+(?:\.\d*)?\s*\)|[^;]+);")
_PAIR_RE = re.compile(r"^\(\s*(-?\d+(?:\.\d*)?),\s*(-?\d+(?:\.\d*)?)\s*\)$")


class MistError(ScopeweaveError):
    """A MIST file is malformed (the message names the file and line)."""


@attrs.frozen(kw_only=True)
class MistTile:
    """One line of ``global-positions``.

    Attributes
    ----------
    file
        Tile image file.
    corr
        Correlation of the tile's link (NaN for the first tile in some MIST versions).
    position_px
        ``(x, y)`` global position.
    grid
        ``(col, row)``.
    """

    file: str
    corr: float
    position_px: tuple[float, float]
    grid: tuple[int, int]

    @property
    def confidence(self) -> float:
        """``corr`` clipped to ``[0, 1]`` (0 for NaN)."""
        return 0.0 if not math.isfinite(self.corr) else min(1.0, max(0.0, self.corr))


def parse_global_positions(text: str, *, source: str = "<global-positions>") -> list[MistTile]:
    """Parse MIST global-positions text."""
    tiles = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        where = f"{source}, line {number}"
        fields = {key: value.strip() for key, value in _FIELD_RE.findall(line)}
        missing = [key for key in ("file", "corr", "position", "grid") if key not in fields]
        if missing:
            raise MistError(f"{where}: missing {', '.join(missing)} in {raw!r}")
        try:
            corr = float(fields["corr"].replace(",", "."))
        except ValueError:
            raise MistError(f"{where}: corr {fields['corr']!r} is not a number") from None
        position, grid = _PAIR_RE.match(fields["position"]), _PAIR_RE.match(fields["grid"])
        if position is None or grid is None:
            raise MistError(f"{where}: position and grid must be written '(a, b)' in {raw!r}")
        tiles.append(MistTile(
            file=fields["file"], corr=corr,
            position_px=(float(position.group(1)), float(position.group(2))),
            grid=(int(float(grid.group(1))), int(float(grid.group(2)))),
        ))
    if not tiles:
        raise MistError(f"{source}: no tiles")
    return tiles


def read_global_positions(path: str | os.PathLike[str]) -> list[MistTile]:
    """Read a MIST global-positions file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MistError(f"{file}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MistError(f"{file}: cannot read: {exc}") from None
    return parse_global_positions(text, source=str(file))


def format_global_positions(tiles: Sequence[MistTile]) -> str:
    """MIST's text: integer positions and grid, correlation with 4 decimals (NaN as MIST writes it)."""
    lines = []
    for tile in tiles:
        corr = "NaN" if not math.isfinite(tile.corr) else f"{tile.corr:.4f}"
        x, y = (round(v) for v in tile.position_px)
        lines.append(f"file: {tile.file}; corr: {corr}; position: ({x}, {y}); grid: ({tile.grid[0]}, {tile.grid[1]});")
    return "\n".join(lines) + "\n"


def write_global_positions(path: str | os.PathLike[str], tiles: Sequence[MistTile]) -> Path:
    """Write a global-positions file atomically."""
    write_text_atomic(path, format_global_positions(tiles))
    return Path(path)
