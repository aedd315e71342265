"""Pearson correlation between frames: neighbours, against a reference, all-vs-all.

Every frame is standardised once (optionally block-binned first) into a
zero-mean, unit-norm float32 row by a fused numba kernel; each correlation is
then a dot product, and the all-vs-all matrix one matrix product (BLAS).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from scopeweave_focusmetrics import _kernels
from scopeweave_focusmetrics._threads import in_worker, map_items, n_threads

__all__ = ["all_vs_all", "bin_frames", "consecutive", "correlate_with", "standardise"]


def bin_frames(frames: NDArray[np.generic], bin_px: int) -> NDArray[np.generic]:
    """Block-mean ``bin_px x bin_px`` binning of a ``(n, y, x)`` stack (edges that do not fill a block are cut)."""
    if bin_px < 1:
        raise ValueError(f"bin_px must be >= 1 (got {bin_px}).")
    if bin_px == 1:
        return frames
    n, h, w = frames.shape
    hb, wb = h // bin_px, w // bin_px
    if hb < 2 or wb < 2:
        raise ValueError(f"binning {h} x {w} px frames by {bin_px} leaves fewer than 2 x 2 px.")
    cut = frames[:, : hb * bin_px, : wb * bin_px].astype(np.float32)
    return cut.reshape(n, hb, bin_px, wb, bin_px).mean(axis=(2, 4))


def standardise(frames: NDArray[np.generic], *, bin_px: int = 1) -> NDArray[np.float32]:
    """``(n, p)`` float32 rows: each frame (binned) minus its mean, divided by its norm.

    A constant frame becomes a zero row: its correlation with anything is 0.
    """
    stack = np.asarray(frames)
    if stack.ndim != 3:
        raise ValueError(f"frames must be a (n, y, x) stack (got shape {stack.shape}).")
    stack = bin_frames(stack, bin_px)
    if stack.dtype not in (np.uint16, np.float32, np.float64):
        stack = stack.astype(np.float32 if stack.dtype.itemsize <= 2 else np.float64)
    rows = np.ascontiguousarray(stack.reshape(len(stack), -1))
    out = np.empty(rows.shape, dtype=np.float32)
    n = len(rows)
    blocks = 1 if in_worker() else min(n_threads(), n)
    if blocks <= 1:
        _kernels.standardise_rows(rows, out, 0, n)
    else:
        edges = [round(i * n / blocks) for i in range(blocks + 1)]
        map_items(lambda i: _kernels.standardise_rows(rows, out, edges[i], edges[i + 1]), range(blocks))
    return out


def consecutive(z: NDArray[np.float32]) -> NDArray[np.float64]:
    """Pearson r of frame i with frame i + 1, for i = 0 .. n - 2 (``z`` from :func:`standardise`)."""
    if len(z) < 2:
        return np.zeros(0)
    r = np.einsum("ij,ij->i", z[:-1].astype(np.float64), z[1:].astype(np.float64))
    return np.clip(r, -1.0, 1.0)


def correlate_with(z: NDArray[np.float32], reference: NDArray[np.float32]) -> NDArray[np.float64]:
    """Pearson r of every standardised row with one standardised ``reference`` row."""
    return np.clip(z.astype(np.float64) @ reference.astype(np.float64), -1.0, 1.0)


def all_vs_all(z: NDArray[np.float32]) -> NDArray[np.float64]:
    """The ``(n, n)`` Pearson correlation matrix (one float32 GEMM; the diagonal is set to 1)."""
    # np.dot takes BLAS's transposed-operand path; ``z @ z.T`` measured 12x slower with numpy 2.4.
    matrix = np.dot(z, z.T).astype(np.float64)
    np.clip(matrix, -1.0, 1.0, out=matrix)
    np.fill_diagonal(matrix, 1.0)
    return matrix
