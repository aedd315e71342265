"""Register a tile set: find neighbour pairs from the priors, register each, solve globally."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_stagecorrect.registration.pairwise import PairShift, register_pair
from scopeweave_stagecorrect.registration.solve import Link, Solution, solve_positions

__all__ = ["PairRecord", "Registration", "TileSource", "find_pairs", "register_tiles"]


class TileSource(Protocol):
    """Tiles by index, all of one shape ``(y, x)``."""

    def __len__(self) -> int: ...

    def image(self, index: int) -> NDArray[np.floating]:
        """Tile ``index`` as a 2D array."""
        ...


@attrs.frozen(kw_only=True)
class PairRecord:
    """One neighbour pair and what registration found.

    Attributes
    ----------
    a, b
        Tile indices.
    prior_offset_px
        ``(x, y)`` of ``b`` relative to ``a`` from the priors.
    shift
        The registration, or ``None`` when it failed.
    used
        Whether the link survived the confidence threshold and the global solve.
    """

    a: int
    b: int
    prior_offset_px: tuple[float, float]
    shift: PairShift | None
    used: bool


@attrs.frozen(kw_only=True)
class Registration:
    """Registered positions of a tile set.

    Attributes
    ----------
    positions_px
        ``(x, y)`` per tile, in the frame of the priors.
    confidence
        Per tile: the best NCC of its kept links, clipped to [0, 1]; 0 for a
        tile placed by its prior alone.
    pairs
        Every pair examined.
    search_radius_px
        The search radius used.
    time_s
        Wall time of the pairwise registrations and the global solve.
    """

    positions_px: tuple[tuple[float, float], ...]
    confidence: tuple[float, ...]
    pairs: tuple[PairRecord, ...]
    search_radius_px: float
    time_s: float


def find_pairs(
    priors_px: Sequence[tuple[float, float]], shape_yx: tuple[int, int], *, min_overlap_fraction: float = 0.05
) -> list[tuple[int, int]]:
    """Pairs ``(a < b)`` whose prior boxes overlap by at least ``min_overlap_fraction`` of a tile."""
    p = np.asarray(priors_px, dtype=float).reshape(-1, 2)
    h, w = shape_yx
    if len(p) < 2:
        return []
    ox = np.clip(w - np.abs(p[:, None, 0] - p[None, :, 0]), 0, None)
    oy = np.clip(h - np.abs(p[:, None, 1] - p[None, :, 1]), 0, None)
    area = ox * oy
    a_idx, b_idx = np.nonzero(np.triu(area >= min_overlap_fraction * h * w, k=1))
    return [(int(a), int(b)) for a, b in zip(a_idx, b_idx, strict=False)]


class _Cache:
    def __init__(self, source: TileSource, size: int) -> None:
        self.source = source
        self.size = size
        self._items: OrderedDict[int, NDArray[np.floating]] = OrderedDict()

    def get(self, index: int) -> NDArray[np.floating]:
        if index in self._items:
            self._items.move_to_end(index)
            return self._items[index]
        image = self.source.image(index)
        self._items[index] = image
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return image


def register_tiles(
    source: TileSource,
    priors_px: Sequence[tuple[float, float]],
    *,
    search_radius_px: float,
    min_ncc: float = 0.3,
    n_peaks: int = 5,
    min_overlap_fraction: float = 0.05,
    cache_tiles: int = 64,
    on_pair: Callable[[], None] | None = None,
) -> Registration:
    """Register neighbouring tiles around their priors and solve for global positions.

    Parameters
    ----------
    source
        The tiles, in the order of ``priors_px``.
    priors_px
        Prior ``(x, y)`` of every tile (corrected or metadata positions).
    search_radius_px
        Largest correction searched per pair and axis.
    min_ncc
        Links below this NCC are not used (Fiji's regression threshold 0.3).
    n_peaks
        Correlation peaks checked per pair.
    min_overlap_fraction
        Pairs overlapping less than this fraction of a tile are not registered.
    cache_tiles
        Tiles kept in memory at once.
    on_pair
        Called after each pair (progress).
    """
    n = len(source)
    if len(priors_px) != n:
        raise ValueError(f"{len(priors_px)} priors for {n} tiles")
    t0 = time.perf_counter()
    cache = _Cache(source, cache_tiles)
    shape = cache.get(0).shape if n else (0, 0)
    pairs = find_pairs(priors_px, (int(shape[0]), int(shape[1])), min_overlap_fraction=min_overlap_fraction)
    records: list[tuple[int, int, tuple[float, float], PairShift | None]] = []
    links: list[Link] = []
    for a, b in sorted(pairs):
        prior = (priors_px[b][0] - priors_px[a][0], priors_px[b][1] - priors_px[a][1])
        image_a, image_b = cache.get(a), cache.get(b)
        if image_a.shape != image_b.shape:
            raise ValueError(f"tiles {a} and {b} differ in shape ({image_a.shape} vs {image_b.shape})")
        shift = register_pair(image_a, image_b, prior, search_radius_px=search_radius_px, n_peaks=n_peaks)
        records.append((a, b, prior, shift))
        if shift is not None and shift.ncc >= min_ncc:
            links.append(Link(a=a, b=b, offset_px=shift.offset_px, weight=max(shift.ncc, 1e-3)))
        if on_pair is not None:
            on_pair()
    solution: Solution = solve_positions(priors_px, links)
    kept = {(k.a, k.b) for k in solution.kept}
    confidence = [0.0] * n
    for link in solution.kept:
        value = min(1.0, max(0.0, link.weight))
        confidence[link.a] = max(confidence[link.a], value)
        confidence[link.b] = max(confidence[link.b], value)
    return Registration(
        positions_px=tuple((float(x), float(y)) for x, y in solution.positions_px),
        confidence=tuple(confidence),
        pairs=tuple(PairRecord(a=a, b=b, prior_offset_px=prior, shift=shift, used=(a, b) in kept)
                    for a, b, prior, shift in records),
        search_radius_px=float(search_radius_px),
        time_s=time.perf_counter() - t0,
    )
