"""Per-tile stage positions and tile images from mosaic CZI files, through aicspylibczi (libCZI).

Each camera subblock's XML carries ``METADATA/Tags/StageXPosition`` and
``StageYPosition``: the stage coordinate, in um, of the subblock's **centre
pixel** (libCZI "Stage coordinates").  The directory entry's X/Y is ZEN's pixel
placement in the mosaic, a different quantity, kept as ``bbox_px``.  The pixel
size comes from ``Metadata/Scaling/Items/Distance[@Id='X']/Value`` (metres).
Tiles are returned in acquisition order (``AcquisitionTime``; M index when
times are missing or tied).  pylibCZIrw cannot read per-tile subblocks, so
aicspylibczi is the reader.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ScopeweaveError

__all__ = ["CziError", "CziMosaic", "CziTile", "read_czi_mosaic", "read_czi_tile_image"]


class CziError(ScopeweaveError):
    """A CZI file cannot be read or lacks per-tile stage positions."""


@attrs.frozen(kw_only=True)
class CziTile:
    """One mosaic tile of a CZI.

    Attributes
    ----------
    m_index, scene
        Mosaic index and scene.
    stage_um
        Stage ``(x, y)`` of the tile's centre pixel.
    acquisition_time
        The subblock's ``AcquisitionTime`` text ('' if absent).
    bbox_px
        ZEN's placement ``(x, y, width, height)`` in the mosaic pixel grid.
    """

    m_index: int
    scene: int
    stage_um: tuple[float, float]
    acquisition_time: str
    bbox_px: tuple[int, int, int, int]


@attrs.frozen(kw_only=True)
class CziMosaic:
    """The tiles of one scene of a mosaic CZI.

    Attributes
    ----------
    path
        The file.
    tiles
        Tiles in acquisition order.
    pixel_size_um
        From the document's scaling (``None`` if absent).
    """

    path: Path
    tiles: tuple[CziTile, ...]
    pixel_size_um: float | None

    def positions_px(self, pixel_size_um: float | None = None) -> list[tuple[float, float]]:
        """Top-left ``(x, y)`` of each tile in pixels, from the stage positions.

        Stage positions name the centre pixel; the tile's half size is subtracted.
        """
        size = pixel_size_um if pixel_size_um is not None else self.pixel_size_um
        if size is None or size <= 0:
            raise CziError(f"{self.path}: no pixel size in the CZI metadata; give pixel_size_um")
        return [
            (t.stage_um[0] / size - t.bbox_px[2] / 2.0, t.stage_um[1] / size - t.bbox_px[3] / 2.0) for t in self.tiles
        ]


def _open(path: Path) -> Any:
    try:
        from aicspylibczi import CziFile
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise CziError(f"{path}: reading CZI needs aicspylibczi (pip install aicspylibczi): {exc}") from exc
    if not path.is_file():
        raise CziError(f"{path}: file not found")
    try:
        return CziFile(str(path))
    except Exception as exc:
        raise CziError(f"{path}: not a readable CZI file: {exc}") from exc


def _pixel_size_um(czi: Any) -> float | None:
    try:
        meta = czi.meta
    except Exception:  # noqa: BLE001 - a document without metadata
        return None
    if meta is None:
        return None
    value = meta.find(".//Scaling/Items/Distance[@Id='X']/Value")
    if value is None or not value.text:
        return None
    try:
        return float(value.text) * 1e6
    except ValueError:
        return None


def _tag(xml: str, name: str) -> str | None:
    element = ET.fromstring(xml).find(f".//{name}")
    return element.text.strip() if element is not None and element.text else None


def read_czi_mosaic(path: str | os.PathLike[str], *, scene: int = 0) -> CziMosaic:
    """Read the stage positions of every mosaic tile of one scene.

    Raises
    ------
    CziError
        If the file is unreadable, not a mosaic, or a tile lacks StageX/YPosition.
    """
    file = Path(path)
    czi = _open(file)
    if not czi.is_mosaic():
        raise CziError(f"{file}: not a mosaic CZI (no M dimension): per-tile stage positions need tiles")
    try:
        boxes = czi.get_all_mosaic_tile_bounding_boxes(S=scene)
    except Exception as exc:
        raise CziError(f"{file}: cannot read the tiles of scene {scene}: {exc}") from exc
    by_m: dict[int, tuple[int, int, int, int]] = {}
    for info, box in boxes.items():
        m = int(info.m_index)
        if m not in by_m:  # the first plane (C/Z/T) of each tile
            by_m[m] = (int(box.x), int(box.y), int(box.w), int(box.h))
    if not by_m:
        raise CziError(f"{file}: scene {scene} has no mosaic tiles")
    tiles = []
    for m, bbox in sorted(by_m.items()):
        metadata = czi.read_subblock_metadata(unified_xml=False, M=m, S=scene)
        if not metadata:
            raise CziError(f"{file}: tile M={m} of scene {scene} has no subblock metadata")
        xml = metadata[0][1]
        try:
            x_text, y_text = _tag(xml, "StageXPosition"), _tag(xml, "StageYPosition")
        except ET.ParseError as exc:
            raise CziError(f"{file}: tile M={m}: subblock metadata is not XML: {exc}") from None
        if x_text is None or y_text is None:
            raise CziError(f"{file}: tile M={m} of scene {scene} has no StageXPosition/StageYPosition tags")
        try:
            stage = (float(x_text), float(y_text))
        except ValueError:
            raise CziError(f"{file}: tile M={m}: stage position {x_text!r}, {y_text!r} is not a number") from None
        tiles.append(CziTile(m_index=m, scene=scene, stage_um=stage,
                             acquisition_time=_tag(xml, "AcquisitionTime") or "", bbox_px=bbox))
    tiles.sort(key=lambda t: (t.acquisition_time or "~", t.m_index))
    return CziMosaic(path=file, tiles=tuple(tiles), pixel_size_um=_pixel_size_um(czi))


def read_czi_tile_image(path: str | os.PathLike[str], tile: CziTile, *, channel: int = 0) -> NDArray[np.float32]:
    """The 2D image of one tile (first Z and T plane of ``channel``), as float32."""
    file = Path(path)
    czi = _open(file)
    dims = czi.dims
    selection: dict[str, int] = {"M": tile.m_index, "S": tile.scene}
    if "C" in dims:
        selection["C"] = channel
    for name in ("Z", "T"):
        if name in dims:
            selection[name] = 0
    try:
        image, _ = czi.read_image(**selection)
    except Exception as exc:
        raise CziError(f"{file}: cannot read tile M={tile.m_index}: {exc}") from exc
    array = np.asarray(image).squeeze()
    if array.ndim != 2:
        raise CziError(f"{file}: tile M={tile.m_index} is not a 2D gray plane (shape {array.shape})")
    return array.astype(np.float32)
