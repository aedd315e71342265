"""A minimal writer of uncompressed mosaic CZI files with per-tile stage positions.

For simulated scans and tests: one 2D gray tile per subblock, mosaic index
``M``, scene ``S``, the pixel placement in the directory entry and the subblock
XML tags ``AcquisitionTime``, ``StageXPosition`` and ``StageYPosition`` (um of
the tile's centre pixel, as ZEN writes them), plus the document's pixel scaling.
The layout follows the ZISRAW specification (file header, subblocks, metadata,
subblock directory; segments 32-byte aligned).  Readers such as libCZI
(aicspylibczi) read what it writes.
"""

from __future__ import annotations

import datetime as _dt
import os
import struct
import uuid
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.atomic import atomic_write

__all__ = ["CziTileToWrite", "write_mosaic_czi"]

_PIXEL_TYPES = {np.dtype(np.uint8): 0, np.dtype(np.uint16): 1, np.dtype(np.float32): 2}


@attrs.frozen(kw_only=True)
class CziTileToWrite:
    """One tile of a mosaic CZI.

    Attributes
    ----------
    image
        2D ``(y, x)`` array: uint8, uint16 or float32.
    stage_um
        Stage ``(x, y)`` of the tile's centre pixel (the subblock tags).
    pixel_xy
        Placement ``(x, y)`` of the tile's top-left pixel in the mosaic grid.
    acquisition_time
        When the tile was acquired.
    scene
        Scene index.
    """

    image: NDArray[np.generic]
    stage_um: tuple[float, float]
    pixel_xy: tuple[int, int]
    acquisition_time: _dt.datetime
    scene: int = 0


def _segment(sid: bytes, payload: bytes) -> bytes:
    allocated = (len(payload) + 31) // 32 * 32
    return struct.pack("<16sqq", sid, allocated, len(payload)) + payload + b"\0" * (allocated - len(payload))


def _directory_entry(tile: CziTileToWrite, m_index: int, file_position: int) -> bytes:
    height, width = tile.image.shape
    dims = [
        (b"X", tile.pixel_xy[0], width, width),
        (b"Y", tile.pixel_xy[1], height, height),
        (b"C", 0, 1, 0),
        (b"S", tile.scene, 1, 0),
        (b"M", m_index, 1, 0),
    ]
    entry = struct.pack("<2siqiiB5si", b"DV", _PIXEL_TYPES[tile.image.dtype], file_position, 0, 0, 0, b"\0" * 5,
                        len(dims))
    for name, start, size, stored in dims:
        entry += struct.pack("<4siifi", name.ljust(4, b"\0"), start, size, float(start), stored)
    return entry


def _tile_xml(tile: CziTileToWrite) -> bytes:
    stamp = tile.acquisition_time.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    x_um, y_um = tile.stage_um
    return (
        "<METADATA><Tags>"
        f"<AcquisitionTime>{stamp}</AcquisitionTime>"
        f"<StageXPosition>{x_um:+018.4f}</StageXPosition>"
        f"<StageYPosition>{y_um:+018.4f}</StageYPosition>"
        "</Tags></METADATA>"
    ).encode()


def _document_xml(pixel_size_um: float, tiles: Sequence[CziTileToWrite]) -> bytes:
    height, width = tiles[0].image.shape
    meters = pixel_size_um * 1e-6
    return (
        "<ImageDocument><Metadata><Information><Image>"
        f"<SizeX>{width}</SizeX><SizeY>{height}</SizeY><SizeM>{len(tiles)}</SizeM>"
        "</Image></Information><Scaling><Items>"
        f'<Distance Id="X"><Value>{meters!r}</Value><DefaultUnitFormat>&#181;m</DefaultUnitFormat></Distance>'
        f'<Distance Id="Y"><Value>{meters!r}</Value><DefaultUnitFormat>&#181;m</DefaultUnitFormat></Distance>'
        "</Items></Scaling></Metadata></ImageDocument>"
    ).encode()


def write_mosaic_czi(path: str | os.PathLike[str], tiles: Sequence[CziTileToWrite], *, pixel_size_um: float) -> Path:
    """Write ``tiles`` (in acquisition order: M index = position in the list) as a CZI, atomically."""
    if not tiles:
        raise ValueError("a CZI needs at least one tile")
    for i, tile in enumerate(tiles):
        if tile.image.ndim != 2 or tile.image.dtype not in _PIXEL_TYPES:
            raise ValueError(f"tile {i}: image must be 2D uint8, uint16 or float32 (got {tile.image.dtype}, "
                             f"shape {tile.image.shape})")
    header_size = 32 + 512
    blobs: list[bytes] = []
    entries: list[bytes] = []
    position = header_size
    for m_index, tile in enumerate(tiles):
        xml = _tile_xml(tile)
        data = np.ascontiguousarray(tile.image).astype(tile.image.dtype.newbyteorder("<"), copy=False).tobytes()
        entry = _directory_entry(tile, m_index, position)
        fixed = struct.pack("<iiq", len(xml), 0, len(data)) + entry
        fixed += b"\0" * (max(256, len(fixed)) - len(fixed))
        blob = _segment(b"ZISRAWSUBBLOCK", fixed + xml + data)
        blobs.append(blob)
        entries.append(entry)
        position += len(blob)
    document = _document_xml(pixel_size_um, tiles)
    metadata = _segment(b"ZISRAWMETADATA", struct.pack("<ii", len(document), 0) + b"\0" * 248 + document)
    metadata_position = position
    directory_position = metadata_position + len(metadata)
    directory = _segment(b"ZISRAWDIRECTORY", struct.pack("<i", len(entries)) + b"\0" * 124 + b"".join(entries))
    guid = uuid.uuid4().bytes
    file_header = struct.pack("<iiii16s16siqqiq", 1, 0, 0, 0, guid, guid, 0, directory_position,
                              metadata_position, 0, 0)
    header = _segment(b"ZISRAWFILE", file_header + b"\0" * (512 - len(file_header)))
    with atomic_write(path, "wb") as handle:
        handle.write(header)
        for blob in blobs:
            handle.write(blob)
        handle.write(metadata)
        handle.write(directory)
    return Path(path)
