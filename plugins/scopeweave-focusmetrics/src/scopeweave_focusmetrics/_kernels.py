"""Fused single-pass numba kernels for the hot metrics.

Each kernel reads a row block ``[row0, row1)`` of a 2D uint16 / float32 /
float64 frame once, applies its stencil with OpenCV's default border
(``BORDER_REFLECT_101``: ``dcb|abcd|cba``) and returns float64 partial sums,
which :func:`scopeweave_focusmetrics._threads.map_row_blocks` adds up.
Accumulation is in float64 (each row is summed separately first), so integer
inputs give exact row sums and float inputs do not lose precision to
cancellation.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "gaussian_weights",
    "laplacian_moments",
    "log_abs_moments",
    "pivoted_moments",
    "sobel_moments",
    "standardise_rows",
]

# Reassociation lets LLVM vectorise the reductions; NaN/inf semantics are kept.
_FAST = {"reassoc", "contract", "nsz", "arcp"}


@numba.njit(cache=True, nogil=True, inline="always")
def _reflect(i: int, n: int) -> int:
    """Index ``i`` folded into ``0..n-1`` with reflect-101 (no edge repeat)."""
    if n == 1:
        return 0
    period = 2 * n - 2
    i = abs(i) % period
    if i >= n:
        i = period - i
    return i


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def laplacian_moments(img: NDArray[np.generic], row0: int, row1: int) -> tuple[float, float, float]:
    """Sums of L, L**2 and |L| for the 5-point Laplacian ``L`` on rows ``row0..row1``."""
    h, w = img.shape
    s1 = 0.0
    s2 = 0.0
    sa = 0.0
    for y in range(row0, row1):
        up = img[_reflect(y - 1, h)]
        row = img[y]
        dn = img[_reflect(y + 1, h)]
        r1 = 0.0
        r2 = 0.0
        ra = 0.0
        for x in range(1, w - 1):
            v = (np.float64(up[x]) + np.float64(dn[x]) + np.float64(row[x - 1]) + np.float64(row[x + 1])
                 - 4.0 * np.float64(row[x]))
            r1 += v
            r2 += v * v
            ra += abs(v)
        for x in (0, w - 1):
            xm = _reflect(x - 1, w)
            xp = _reflect(x + 1, w)
            v = (np.float64(up[x]) + np.float64(dn[x]) + np.float64(row[xm]) + np.float64(row[xp])
                 - 4.0 * np.float64(row[x]))
            r1 += v
            r2 += v * v
            ra += abs(v)
        s1 += r1
        s2 += r2
        sa += ra
    return s1, s2, sa


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def sobel_moments(img: NDArray[np.generic], row0: int, row1: int) -> tuple[float, float]:
    """Sums of ``G = Gx**2 + Gy**2`` and ``G**2`` for the 3 x 3 Sobel gradient on rows ``row0..row1``."""
    h, w = img.shape
    smooth = np.empty(w, dtype=np.float64)
    diff = np.empty(w, dtype=np.float64)
    s1 = 0.0
    s2 = 0.0
    for y in range(row0, row1):
        up = img[_reflect(y - 1, h)]
        row = img[y]
        dn = img[_reflect(y + 1, h)]
        for x in range(w):
            a = np.float64(up[x])
            c = np.float64(dn[x])
            smooth[x] = a + 2.0 * np.float64(row[x]) + c
            diff[x] = c - a
        r1 = 0.0
        r2 = 0.0
        for x in range(1, w - 1):
            gx = smooth[x + 1] - smooth[x - 1]
            gy = diff[x - 1] + 2.0 * diff[x] + diff[x + 1]
            g = gx * gx + gy * gy
            r1 += g
            r2 += g * g
        for x in (0, w - 1):
            xm = _reflect(x - 1, w)
            xp = _reflect(x + 1, w)
            gx = smooth[xp] - smooth[xm]
            gy = diff[xm] + 2.0 * diff[x] + diff[xp]
            g = gx * gx + gy * gy
            r1 += g
            r2 += g * g
        s1 += r1
        s2 += r2
    return s1, s2


def gaussian_weights(sigma_px: float) -> NDArray[np.float32]:
    """OpenCV's Gaussian kernel for ``sigma_px`` (float images): ``ksize = round(8 sigma + 1) | 1``."""
    size = round(sigma_px * 8 + 1) | 1
    radius = size // 2
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-(x * x) / (2.0 * sigma_px * sigma_px))
    return (weights / weights.sum()).astype(np.float32)


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def _blur_row(img: NDArray[np.generic], j: int, weights: NDArray[np.float32],
              vtmp: NDArray[np.float32], out: NDArray[np.float32]) -> None:
    """Row ``j`` of the separable Gaussian blur of ``img`` (reflect-101) into ``out``.

    ``weights`` is symmetric: ``out[x] = w0 v[x] + sum_k w_k (v[x-k] + v[x+k])``.
    """
    h, w = img.shape
    radius = weights.size // 2
    centre = img[j]
    g0 = weights[radius]
    for x in range(w):
        vtmp[x] = g0 * np.float32(centre[x])
    for k in range(1, radius + 1):
        above = img[_reflect(j - k, h)]
        below = img[_reflect(j + k, h)]
        g = weights[radius + k]
        for x in range(w):
            vtmp[x] += g * (np.float32(above[x]) + np.float32(below[x]))
    # Interior: slices keep every index a non-negative loop counter, so LLVM vectorises.
    inner = w - 2 * radius
    if inner > 0:
        target = out[radius : w - radius]
        middle = vtmp[radius : w - radius]
        for i in range(inner):
            target[i] = g0 * middle[i]
        for k in range(1, radius + 1):
            g = weights[radius + k]
            left = vtmp[radius - k : w - radius - k]
            right = vtmp[radius + k : w - radius + k]
            for i in range(inner):
                target[i] += g * (left[i] + right[i])
    for x in range(min(radius, w)):
        for xx in (x, w - 1 - x):
            acc = g0 * vtmp[xx]
            for k in range(1, radius + 1):
                acc += weights[radius + k] * (vtmp[_reflect(xx - k, w)] + vtmp[_reflect(xx + k, w)])
            out[xx] = acc


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def log_abs_moments(img: NDArray[np.generic], weights: NDArray[np.float32],
                    row0: int, row1: int) -> tuple[float, float, float]:
    """Sums of |L|, L and L**2 of the Laplacian of the Gaussian-blurred frame (float32 blur)."""
    h, w = img.shape
    vtmp = np.empty(w, dtype=np.float32)
    bufs = np.empty((3, w), dtype=np.float32)
    held = np.array([-1, -1, -1])
    sa = 0.0
    s1 = 0.0
    s2 = 0.0
    for y in range(row0, row1):
        need = (_reflect(y - 1, h), y, _reflect(y + 1, h))
        slots = np.full(3, -1, dtype=np.int64)
        for n in range(3):
            for s in range(3):
                if held[s] == need[n]:
                    slots[n] = s
            if slots[n] >= 0:
                continue
            for s in range(3):
                if s != slots[0] and s != slots[1] and s != slots[2]:
                    _blur_row(img, need[n], weights, vtmp, bufs[s])
                    held[s] = need[n]
                    slots[n] = s
                    break
        up = bufs[slots[0]]
        row = bufs[slots[1]]
        dn = bufs[slots[2]]
        ra = 0.0
        r1 = 0.0
        r2 = 0.0
        for x in range(1, w - 1):
            v = np.float64(up[x] + dn[x] + row[x - 1] + row[x + 1] - np.float32(4.0) * row[x])
            ra += abs(v)
            r1 += v
            r2 += v * v
        for x in (0, w - 1):
            v = np.float64(up[x] + dn[x] + row[_reflect(x - 1, w)] + row[_reflect(x + 1, w)]
                           - np.float32(4.0) * row[x])
            ra += abs(v)
            r1 += v
            r2 += v * v
        sa += ra
        s1 += r1
        s2 += r2
    return sa, s1, s2


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def pivoted_moments(img: NDArray[np.generic], pivot: float, row0: int, row1: int) -> tuple[float, float]:
    """Sums of ``x - pivot`` and ``(x - pivot)**2`` on rows ``row0..row1`` (pivot: a rough mean)."""
    w = img.shape[1]
    s1 = 0.0
    s2 = 0.0
    for y in range(row0, row1):
        row = img[y]
        r1 = 0.0
        r2 = 0.0
        for x in range(w):
            v = np.float64(row[x]) - pivot
            r1 += v
            r2 += v * v
        s1 += r1
        s2 += r2
    return s1, s2


@numba.njit(cache=True, nogil=True, fastmath=_FAST)
def standardise_rows(src: NDArray[np.generic], out: NDArray[np.float32], row0: int, row1: int) -> None:
    """Rows ``row0..row1`` of ``src`` (n, p) -> zero mean, unit norm float32 rows of ``out``.

    A constant row becomes all zeros (its correlation with anything is 0).
    """
    p = src.shape[1]
    for i in range(row0, row1):
        row = src[i]
        pivot = np.float64(row[0])
        s1 = 0.0
        s2 = 0.0
        for x in range(p):
            v = np.float64(row[x]) - pivot
            s1 += v
            s2 += v * v
        mean = s1 / p
        ss = s2 - s1 * mean
        scale = 1.0 / np.sqrt(ss) if ss > 0.0 else 0.0
        centre = pivot + mean
        target = out[i]
        for x in range(p):
            target[x] = np.float32((np.float64(row[x]) - centre) * scale)
