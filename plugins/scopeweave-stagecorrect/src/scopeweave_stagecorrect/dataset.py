"""Tile sets (metadata positions + images) and registered positions, from any supported file.

Metadata: a Fiji ``TileConfiguration.txt`` (positions in px, images beside it)
or a mosaic ``.czi`` (stage positions in um, converted with the pixel size).
Registered positions: a ``TileConfiguration.registered.txt`` (confidences
from scopeweave's comments, else ``default_confidence``), a MIST
``global-positions`` file (its ``corr``), or BigStitcher pairwise results (XML;
solved here into positions, confidence = best link correlation).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np
import tifffile
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError
from scopeweave_stagecorrect.formats.bigstitcher import read_stitching_results
from scopeweave_stagecorrect.formats.czi import CziTile, read_czi_mosaic, read_czi_tile_image
from scopeweave_stagecorrect.formats.mist import read_global_positions
from scopeweave_stagecorrect.formats.tileconfig import (
    TileConfiguration,
    TileEntry,
    parse_tile_configuration,
    read_tile_configuration,
)
from scopeweave_stagecorrect.registration.solve import Link, solve_positions

__all__ = ["DatasetError", "RegisteredPositions", "TileSet", "load_registered", "load_tile_set"]


class DatasetError(ScopeweaveError):
    """Tiles or registered positions cannot be loaded or matched."""


@attrs.frozen(kw_only=True)
class TileSet:
    """A scan: tile names, metadata positions in acquisition order, and where the images are.

    Attributes
    ----------
    path
        The file it came from.
    config
        The metadata positions as a TileConfiguration (for writing siblings).
    pixel_size_um
        Pixel size, when the file states it (CZI).
    scene
        CZI scene the tiles come from.
    """

    path: Path
    config: TileConfiguration
    pixel_size_um: float | None = None
    scene: int = 0

    @property
    def metadata_px(self) -> list[tuple[float, float]]:
        """Metadata ``(x, y)`` positions in px."""
        return self.config.positions_xy

    def __len__(self) -> int:
        return len(self.config.tiles)

    def image(self, index: int) -> NDArray[np.float32]:
        """Tile ``index`` as a 2D float32 array (first plane of a multi-plane file)."""
        entry = self.config.tiles[index]
        file = self.path.parent / entry.file
        if file.suffix.lower() == ".czi":
            tiles = _czi_tiles(str(file), self.scene)
            if (entry.series or 0) not in tiles:
                raise DatasetError(f"{file}: no mosaic tile M={entry.series} in scene {self.scene}")
            return read_czi_tile_image(file, tiles[entry.series or 0])
        try:
            array = np.load(file) if file.suffix.lower() == ".npy" else tifffile.imread(file, key=entry.series or 0)
        except FileNotFoundError:
            raise DatasetError(f"{self.path}: tile image {entry.file!r} not found in {file.parent}") from None
        except (OSError, ValueError, IndexError) as exc:
            raise DatasetError(f"{self.path}: cannot read tile image {entry.file!r}: {exc}") from None
        array = np.asarray(array)
        while array.ndim > 2:
            array = array[0]
        if array.ndim != 2:
            raise DatasetError(f"{self.path}: tile image {entry.file!r} is not 2D (shape {array.shape})")
        return array.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _czi_tiles(path: str, scene: int) -> dict[int, CziTile]:
    return {t.m_index: t for t in read_czi_mosaic(path, scene=scene).tiles}


def load_tile_set(path: str | os.PathLike[str], *, pixel_size_um: float | None = None, scene: int = 0) -> TileSet:
    """Read metadata positions from a TileConfiguration (``.txt``) or a mosaic CZI."""
    file = Path(path)
    if file.suffix.lower() == ".czi":
        mosaic = read_czi_mosaic(file, scene=scene)
        size = pixel_size_um if pixel_size_um else mosaic.pixel_size_um
        positions = mosaic.positions_px(size)
        tiles = tuple(
            TileEntry(file=file.name, series=t.m_index, position=p) for t, p in zip(mosaic.tiles, positions, strict=True)
        )
        return TileSet(path=file, config=TileConfiguration(dim=2, tiles=tiles, multiseries=True), pixel_size_um=size,
                       scene=scene)
    config = read_tile_configuration(file)
    return TileSet(path=file, config=config, pixel_size_um=pixel_size_um)


@attrs.frozen(kw_only=True)
class RegisteredPositions:
    """Registered positions matched to a tile set's order.

    Attributes
    ----------
    positions_px
        ``(x, y)`` per tile.
    confidence
        Per-tile confidence in [0, 1].
    source_format
        'fiji', 'mist' or 'bigstitcher'.
    """

    positions_px: tuple[tuple[float, float], ...]
    confidence: tuple[float, ...]
    source_format: str


def _mist_key(name: str) -> tuple[str, int | None]:
    # mist_tiles() writes a series as 'file.czi[3]'.
    if name.endswith("]") and "[" in name:
        base, _, series = name[:-1].rpartition("[")
        if series.isdigit():
            return base, int(series)
    return name, None


def _match(tile_set: TileSet, keys: Sequence[tuple[str, int | None]], where: Path) -> list[int]:
    index = {(t.file, t.series): i for i, t in enumerate(tile_set.config.tiles)}
    by_name = {t.file: i for i, t in enumerate(tile_set.config.tiles)}
    order = []
    for key in keys:
        i = index.get(key, by_name.get(key[0]) if key[1] is None else None)
        if i is None:
            raise DatasetError(f"{where}: tile {key[0]!r} (series {key[1]}) is not in {tile_set.path}")
        order.append(i)
    missing = set(range(len(tile_set))) - set(order)
    if missing:
        names = ", ".join(tile_set.config.tiles[i].file for i in sorted(missing)[:5])
        raise DatasetError(f"{where}: {len(missing)} tile(s) of {tile_set.path} have no registered position ({names})")
    return order


def load_registered(
    path: str | os.PathLike[str], tile_set: TileSet, *, default_confidence: float = 1.0
) -> RegisteredPositions:
    """Read registered positions for ``tile_set`` from a Fiji, MIST or BigStitcher file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DatasetError(f"{file}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{file}: cannot read: {exc}") from None
    n = len(tile_set)
    stripped = text.lstrip()
    if stripped.startswith("<"):
        results = read_stitching_results(file)
        links = []
        for r in results:
            a, b = r.setups_a[0], r.setups_b[0]
            if not (0 <= a < n and 0 <= b < n):
                raise DatasetError(f"{file}: view setup {a} or {b} is not a tile of {tile_set.path} (0..{n - 1})")
            start = tile_set.metadata_px
            offset = (start[b][0] - start[a][0] + r.shift_px[0], start[b][1] - start[a][1] + r.shift_px[1])
            if r.correlation > 0:
                links.append(Link(a=a, b=b, offset_px=offset, weight=min(1.0, r.correlation)))
        solution = solve_positions(tile_set.metadata_px, links)
        confidence = [0.0] * n
        for link in solution.kept:
            confidence[link.a] = max(confidence[link.a], link.weight)
            confidence[link.b] = max(confidence[link.b], link.weight)
        return RegisteredPositions(positions_px=tuple((float(x), float(y)) for x, y in solution.positions_px),
                                   confidence=tuple(confidence), source_format="bigstitcher")
    if stripped.startswith("file:"):
        tiles = read_global_positions(file)
        order = _match(tile_set, [_mist_key(t.file) for t in tiles], file)
        positions: list[tuple[float, float]] = [(0.0, 0.0)] * n
        confidences = [0.0] * n
        for tile, i in zip(tiles, order, strict=False):
            positions[i] = tile.position_px
            confidences[i] = tile.confidence
        return RegisteredPositions(positions_px=tuple(positions), confidence=tuple(confidences), source_format="mist")
    config = parse_tile_configuration(text, source=str(file))
    order = _match(tile_set, [(t.file, t.series) for t in config.tiles], file)
    positions = [(0.0, 0.0)] * n
    confidences = [default_confidence] * n
    for entry, c, i in zip(config.tiles, config.confidence, order, strict=False):
        positions[i] = (entry.position[0], entry.position[1])
        if c is not None:
            confidences[i] = min(1.0, max(0.0, c))
    return RegisteredPositions(positions_px=tuple(positions), confidence=tuple(confidences), source_format="fiji")
