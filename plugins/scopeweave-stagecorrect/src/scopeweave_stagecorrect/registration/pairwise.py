"""Pairwise tile registration by phase correlation, searched around a prior offset.

For tiles A and B with a prior offset ``d = pos_B - pos_A``, the predicted
overlap is grown by the search radius ``r`` on every side; each tile's part of
that box is mean-subtracted, apodised (Hann) and placed on a common canvas in
the prior frame, so the true correction ``delta`` (``true offset = d + delta``)
is the phase-correlation peak.  Only peaks within ``|delta| <= r`` count; the
best ``n_peaks`` local maxima are verified by the normalised cross-correlation
(NCC) of the real overlap, the best one is refined to sub-pixel by a parabola
through its neighbours, and its NCC is the link's confidence.  A smaller
search radius (better priors) means smaller FFTs and fewer false peaks.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["PairShift", "ncc_at", "overlap_box", "register_pair"]


@attrs.frozen(kw_only=True)
class PairShift:
    """The registration of tile B against tile A.

    Attributes
    ----------
    offset_px
        Measured ``(x, y)`` of B relative to A.
    correction_px
        ``offset_px`` minus the prior offset.
    ncc
        Normalised cross-correlation of the overlap at the measured offset (-1..1).
    overlap_px
        Number of overlapping pixels at the measured offset.
    """

    offset_px: tuple[float, float]
    correction_px: tuple[float, float]
    ncc: float
    overlap_px: int


def overlap_box(offset_xy: tuple[float, float], shape_yx: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """Overlap of A (at 0) and B (at the integer ``offset``) in A's pixels: ``(x0, x1, y0, y1)`` or ``None``."""
    ox, oy = round(offset_xy[0]), round(offset_xy[1])
    h, w = shape_yx
    x0, x1 = max(0, ox), min(w, ox + w)
    y0, y1 = max(0, oy), min(h, oy + h)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, x1, y0, y1


def ncc_at(a: NDArray[np.floating], b: NDArray[np.floating], offset_xy: tuple[float, float]) -> tuple[float, int]:
    """Pearson NCC of the pixels A and B share when B sits at the (rounded) ``offset_xy``."""
    box = overlap_box(offset_xy, (a.shape[0], a.shape[1]))
    if box is None:
        return -1.0, 0
    x0, x1, y0, y1 = box
    ox, oy = round(offset_xy[0]), round(offset_xy[1])
    pa = a[y0:y1, x0:x1].astype(np.float64)
    pb = b[y0 - oy : y1 - oy, x0 - ox : x1 - ox].astype(np.float64)
    pa = pa - pa.mean()
    pb = pb - pb.mean()
    denominator = math.sqrt(float(np.sum(pa * pa)) * float(np.sum(pb * pb)))
    if denominator <= 0:
        return 0.0, pa.size
    return float(np.sum(pa * pb)) / denominator, pa.size


def _taper(n: int, width: int = 8) -> NDArray[np.float64]:
    """1 inside, a half-cosine over ``width`` pixels at each end (a Tukey window)."""
    window = np.ones(n)
    k = min(width, n // 4)
    if k > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)
        window[:k] = ramp
        window[n - k :] = ramp[::-1]
    return window


def _parabola(minus: float, centre: float, plus: float) -> float:
    denominator = minus - 2.0 * centre + plus
    if denominator >= 0 or not math.isfinite(denominator):
        return 0.0
    return float(np.clip(0.5 * (minus - plus) / denominator, -0.5, 0.5))


def register_pair(
    a: NDArray[np.floating],
    b: NDArray[np.floating],
    prior_offset_xy: tuple[float, float],
    *,
    search_radius_px: float,
    n_peaks: int = 5,
    min_overlap_px: int = 64,
    min_overlap_of_prior: float = 0.25,
) -> PairShift | None:
    """Register tile ``b`` against tile ``a`` near ``prior_offset_xy``.

    Parameters
    ----------
    a, b
        Two tiles of the same shape, ``(y, x)``.
    prior_offset_xy
        Prior ``(x, y)`` of B relative to A, in pixels.
    search_radius_px
        Largest correction searched on each axis.
    n_peaks
        Correlation peaks verified by NCC (Fiji checks 5).
    min_overlap_px, min_overlap_of_prior
        A candidate offset must leave at least this many pixels, and this
        fraction of the prior overlap, in common (tiny overlaps correlate by chance).

    Returns
    -------
    PairShift or None
        ``None`` when the tiles cannot overlap within the search radius.
    """
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"tiles must be 2D and of one shape (got {a.shape} and {b.shape})")
    h, w = a.shape
    r = max(1, math.ceil(search_radius_px))
    dx, dy = round(prior_offset_xy[0]), round(prior_offset_xy[1])
    prior_box = overlap_box((dx, dy), (h, w))
    if prior_box is not None:
        prior_area = (prior_box[1] - prior_box[0]) * (prior_box[3] - prior_box[2])
        min_overlap_px = max(min_overlap_px, int(min_overlap_of_prior * prior_area))
    # Predicted overlap in A's frame, grown by r, limited to the union of both tiles.
    x0, x1 = max(0, dx) - r, min(w, dx + w) + r
    y0, y1 = max(0, dy) - r, min(h, dy + h) + r
    x0, x1 = max(x0, min(0, dx)), min(x1, max(w, dx + w))
    y0, y1 = max(y0, min(0, dy)), min(y1, max(h, dy + h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    ch, cw = y1 - y0, x1 - x0
    canvas_a = np.zeros((ch, cw))
    canvas_b = np.zeros((ch, cw))
    for tile, origin, canvas in ((a, (0, 0), canvas_a), (b, (dx, dy), canvas_b)):
        tx0, tx1 = max(x0, origin[0]), min(x1, origin[0] + w)
        ty0, ty1 = max(y0, origin[1]), min(y1, origin[1] + h)
        if tx1 - tx0 < 2 or ty1 - ty0 < 2:
            return None
        part = tile[ty0 - origin[1] : ty1 - origin[1], tx0 - origin[0] : tx1 - origin[0]].astype(np.float64)
        part = (part - part.mean()) * np.outer(_taper(ty1 - ty0), _taper(tx1 - tx0))
        canvas[ty0 - y0 : ty1 - y0, tx0 - x0 : tx1 - x0] = part
    fa, fb = np.fft.rfft2(canvas_a), np.fft.rfft2(canvas_b)
    cross = fa * np.conj(fb)
    cross /= np.abs(cross) + 1e-9 * np.abs(cross).max() + 1e-300
    surface = np.fft.irfft2(cross, s=(ch, cw))
    # surface[s] peaks where canvas_a(p + s) matches canvas_b(p): s = correction of B.
    sy = np.fft.fftfreq(ch, 1.0 / ch).astype(int)
    sx = np.fft.fftfreq(cw, 1.0 / cw).astype(int)
    inside = (np.abs(sy)[:, None] <= r) & (np.abs(sx)[None, :] <= r)
    masked = np.where(inside, surface, -np.inf)
    local_max = masked >= np.maximum.reduce([
        np.roll(masked, shift, axis) for shift in (1, -1) for axis in (0, 1)
    ])
    candidates = np.flatnonzero(local_max & inside)
    if candidates.size == 0:
        return None
    order = candidates[np.argsort(masked.ravel()[candidates])[::-1][:n_peaks]]
    best: tuple[float, int, int, int] | None = None
    for flat in order:
        iy, ix = divmod(int(flat), cw)
        ncc, n_overlap = ncc_at(a, b, (dx + sx[ix], dy + sy[iy]))
        if n_overlap >= min_overlap_px and (best is None or ncc > best[0]):
            best = (ncc, int(dx + sx[ix]), int(dy + sy[iy]), n_overlap)
    if best is None:
        return None
    ncc, ox, oy, n_overlap = _climb(a, b, best, dx, dy, r, min_overlap_px)
    # Sub-pixel: a parabola through the NCC of the neighbours on each axis.
    fx = _parabola(ncc_at(a, b, (ox - 1, oy))[0], ncc, ncc_at(a, b, (ox + 1, oy))[0])
    fy = _parabola(ncc_at(a, b, (ox, oy - 1))[0], ncc, ncc_at(a, b, (ox, oy + 1))[0])
    offset_xy = (ox + fx, oy + fy)
    return PairShift(
        offset_px=(float(offset_xy[0]), float(offset_xy[1])),
        correction_px=(float(offset_xy[0] - prior_offset_xy[0]), float(offset_xy[1] - prior_offset_xy[1])),
        ncc=ncc, overlap_px=n_overlap,
    )


def _climb(
    a: NDArray[np.floating],
    b: NDArray[np.floating],
    start: tuple[float, int, int, int],
    dx: int,
    dy: int,
    r: int,
    min_overlap_px: int,
) -> tuple[float, int, int, int]:
    """Hill-climb the NCC over whole-pixel offsets within the search box (MIST's refinement)."""
    ncc, ox, oy, n_overlap = start
    for _ in range(4 * r + 4):
        moved = False
        for sx_, sy_ in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            cx, cy = ox + sx_, oy + sy_
            if abs(cx - dx) > r or abs(cy - dy) > r:
                continue
            value, count = ncc_at(a, b, (cx, cy))
            if count >= min_overlap_px and value > ncc + 1e-12:
                ncc, ox, oy, n_overlap, moved = value, cx, cy, count, True
        if not moved:
            break
    return ncc, ox, oy, n_overlap
