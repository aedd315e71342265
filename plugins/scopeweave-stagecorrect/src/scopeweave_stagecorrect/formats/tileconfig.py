"""Fiji ``TileConfiguration.txt`` / ``TileConfiguration.registered.txt`` (Grid/Collection stitching).

Syntax (Fiji ``Stitching_Grid`` writeTileConfiguration / getLayoutFromFile)::

    # Define the number of dimensions we are working on
    dim = 2

    # Define the image coordinates
    tile_001.tif; ; (0.0, 0.0)
    tile_002.tif; ; (921.6, 0.0)

Lines starting with ``#`` or shorter than 4 characters are ignored; each body
line splits into exactly three fields on ``;`` (file, series, coordinates);
the tuple has ``dim`` entries; ``multiseries = true`` makes the second field
the series index (``file.czi; 3; (x, y)``).  Numbers are written as Java's
``Double.toString`` writes them.

Fiji stores no registration confidence; this module writes per-tile
confidences as comment lines (``# scopeweave-confidence: <file>; <series>; <value>``)
that Fiji ignores and :func:`read_tile_configuration` reads back.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import attrs

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError

__all__ = [
    "TileConfiguration",
    "TileConfigurationError",
    "TileEntry",
    "corrected_name",
    "format_tile_configuration",
    "java_double",
    "parse_tile_configuration",
    "read_tile_configuration",
    "registered_name",
    "write_tile_configuration",
]

CONFIDENCE_TAG = "# scopeweave-confidence:"


class TileConfigurationError(ScopeweaveError):
    """A TileConfiguration file is malformed (the message names the file and line)."""


@attrs.frozen(kw_only=True)
class TileEntry:
    """One line of a TileConfiguration.

    Attributes
    ----------
    file
        Image file name, relative to the configuration's folder.
    series
        Series index (multiseries files) or ``None``.
    position
        ``(x, y)`` or ``(x, y, z)`` in pixels.
    """

    file: str
    series: int | None = None
    position: tuple[float, ...]


@attrs.frozen(kw_only=True)
class TileConfiguration:
    """A parsed TileConfiguration.

    Attributes
    ----------
    dim
        2 or 3.
    tiles
        Tiles in file order (the acquisition order for metadata configurations).
    multiseries
        Whether the second field is a series index.
    confidence
        Per-tile confidence (``None`` where the file has none).
    """

    dim: int
    tiles: tuple[TileEntry, ...]
    multiseries: bool = False
    confidence: tuple[float | None, ...] = attrs.field()

    @confidence.default
    def _no_confidence(self) -> tuple[float | None, ...]:
        return (None,) * len(self.tiles)

    def __attrs_post_init__(self) -> None:
        if len(self.confidence) != len(self.tiles):
            raise ValueError(f"confidence has {len(self.confidence)} entries for {len(self.tiles)} tiles")

    @property
    def positions_xy(self) -> list[tuple[float, float]]:
        """``(x, y)`` of every tile."""
        return [(t.position[0], t.position[1]) for t in self.tiles]

    def with_positions(
        self, positions_xy: Sequence[tuple[float, float]], confidence: Sequence[float | None] | None = None
    ) -> TileConfiguration:
        """A copy with new ``(x, y)`` positions (``z`` kept) and optionally confidences."""
        if len(positions_xy) != len(self.tiles):
            raise ValueError(f"{len(positions_xy)} positions for {len(self.tiles)} tiles")
        tiles = tuple(
            attrs.evolve(t, position=(float(x), float(y), *t.position[2:]))
            for t, (x, y) in zip(self.tiles, positions_xy, strict=True)
        )
        return attrs.evolve(self, tiles=tiles,
                            confidence=tuple(confidence) if confidence is not None else self.confidence)


def java_double(value: float) -> str:
    """``value`` as Java's ``Double.toString`` writes it (``0.0``, ``921.6``, ``1.0E-4``, ``1.5E7``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        return repr(float(value))  # shortest round-trip digits, never an exponent in this range
    _sign, digits, exponent = Decimal(repr(abs(float(value)))).normalize().as_tuple()
    scientific = int(exponent) + len(digits) - 1
    mantissa = f"{digits[0]}." + ("".join(str(d) for d in digits[1:]) or "0")
    return f"{'-' if value < 0 else ''}{mantissa}E{scientific}"


_DIM_RE = re.compile(r"^dim\s*=\s*(\S+)\s*$")
_MULTI_RE = re.compile(r"^multiseries\s*=\s*(\S+)\s*$")


def parse_tile_configuration(text: str, *, source: str = "<TileConfiguration>") -> TileConfiguration:
    """Parse TileConfiguration text; errors name ``source`` and the line."""
    dim: int | None = None
    multiseries = False
    tiles: list[TileEntry] = []
    confidences: dict[tuple[str, int | None], float] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        where = f"{source}, line {number}"
        if line.startswith(CONFIDENCE_TAG):
            fields = [f.strip() for f in line[len(CONFIDENCE_TAG):].split(";")]
            if len(fields) != 3:
                raise TileConfigurationError(f"{where}: confidence comment needs 'file; series; value': {raw!r}")
            try:
                confidences[(fields[0], _series(fields[1], where))] = float(fields[2])
            except ValueError:
                raise TileConfigurationError(f"{where}: confidence {fields[2]!r} is not a number") from None
            continue
        if line.startswith("#") or len(line) < 4:
            continue
        if match := _DIM_RE.match(line):
            try:
                dim = int(match.group(1))
            except ValueError:
                raise TileConfigurationError(f"{where}: 'dim' must be 2 or 3 (got {match.group(1)!r})") from None
            if dim not in (2, 3):
                raise TileConfigurationError(f"{where}: 'dim' must be 2 or 3 (got {dim})")
            continue
        if match := _MULTI_RE.match(line):
            multiseries = match.group(1).lower() == "true"
            continue
        if dim is None:
            raise TileConfigurationError(f"{where}: tile line before the 'dim = 2' header")
        fields = line.split(";")
        if len(fields) != 3:
            raise TileConfigurationError(
                f"{where}: expected 'file; series; (x, y)' (3 fields separated by ';'), got {len(fields)}: {raw!r}"
            )
        name, series_text, coords = (f.strip() for f in fields)
        if not name:
            raise TileConfigurationError(f"{where}: empty file name")
        if not (coords.startswith("(") and coords.endswith(")")):
            raise TileConfigurationError(f"{where}: coordinates must be written '(x, y)', got {coords!r}")
        parts = [p.strip() for p in coords[1:-1].split(",")]
        if len(parts) != dim:
            raise TileConfigurationError(f"{where}: expected {dim} coordinates (dim = {dim}), got {len(parts)}")
        try:
            position = tuple(float(p) for p in parts)
        except ValueError:
            raise TileConfigurationError(f"{where}: coordinates {coords!r} are not numbers") from None
        if not all(math.isfinite(v) for v in position):
            raise TileConfigurationError(f"{where}: coordinates {coords!r} are not finite")
        tiles.append(TileEntry(file=name, series=_series(series_text, where), position=position))
    if dim is None:
        raise TileConfigurationError(f"{source}: no 'dim = 2' header: not a TileConfiguration file")
    if not tiles:
        raise TileConfigurationError(f"{source}: the file lists no tiles")
    confidence = tuple(confidences.get((t.file, t.series)) for t in tiles)
    return TileConfiguration(dim=dim, tiles=tuple(tiles), multiseries=multiseries, confidence=confidence)


def _series(text: str, where: str) -> int | None:
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise TileConfigurationError(f"{where}: series {text!r} is not an integer") from None
    if value < 0:
        raise TileConfigurationError(f"{where}: series must be >= 0 (got {value})")
    return value


def read_tile_configuration(path: str | os.PathLike[str]) -> TileConfiguration:
    """Read a TileConfiguration file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TileConfigurationError(f"{file}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TileConfigurationError(f"{file}: cannot read: {exc}") from None
    return parse_tile_configuration(text, source=str(file))


def format_tile_configuration(config: TileConfiguration) -> str:
    """TileConfiguration text exactly as Fiji writes it (plus confidence comments if any)."""
    lines = ["# Define the number of dimensions we are working on", f"dim = {config.dim}"]
    if config.multiseries:
        lines.append("multiseries = true")
    lines += ["", "# Define the image coordinates"]
    for tile in config.tiles:
        series = "" if tile.series is None else str(tile.series)
        coords = ", ".join(java_double(v) for v in tile.position)
        lines.append(f"{tile.file}; {series}; ({coords})")
    if any(c is not None for c in config.confidence):
        lines += ["", "# Registration confidence per tile (scopeweave; ignored by Fiji)"]
        for tile, c in zip(config.tiles, config.confidence, strict=False):
            if c is not None:
                series = "" if tile.series is None else str(tile.series)
                lines.append(f"{CONFIDENCE_TAG} {tile.file}; {series}; {java_double(c)}")
    return "\n".join(lines) + "\n"


def write_tile_configuration(path: str | os.PathLike[str], config: TileConfiguration) -> Path:
    """Write a TileConfiguration atomically; returns the path."""
    write_text_atomic(path, format_tile_configuration(config))
    return Path(path)


def _sibling(path: str | os.PathLike[str], infix: str) -> Path:
    file = Path(path)
    name = file.name
    for known in (".registered.txt", ".corrected.txt"):
        if name.endswith(known):
            name = name[: -len(known)] + ".txt"
    if name.endswith(".txt"):
        return file.with_name(name[:-4] + f".{infix}.txt")
    return file.with_name(name + f".{infix}.txt")


def registered_name(path: str | os.PathLike[str]) -> Path:
    """Fiji's name for the registered file: ``X.txt`` -> ``X.registered.txt``."""
    return _sibling(path, "registered")


def corrected_name(path: str | os.PathLike[str]) -> Path:
    """``X.txt`` -> ``X.corrected.txt``."""
    return _sibling(path, "corrected")
