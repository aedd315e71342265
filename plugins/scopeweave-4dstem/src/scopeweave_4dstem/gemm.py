"""Weight matrices widened to the column count the BLAS product runs fastest with.

The mapping pass is one ``(n, K) @ (K, m)`` float32 product per block with a
narrow ``m`` (3 CoM columns per gate set, plus the filter columns).  BLAS
micro-kernels work on fixed column widths, so an odd ``m`` can run slower
than a wider one: with OpenBLAS 0.3 on an AVX2 core, ``m = 13`` streams
5.1 GB/s and ``m = 16`` 6.5 GB/s.  :func:`padded` appends zero columns up to
whichever of ``m``, the next multiple of 4 and the next multiple of 8 the
BLAS at hand multiplies fastest, measured once per shape and process; the
extra columns are zero and are dropped from the result.
"""

from __future__ import annotations

import functools
import math
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["padded"]

_PROBE_ROWS = 256
_PROBE_REPEATS = 3


def padded(weights: NDArray[np.floating[Any]]) -> NDArray[np.float32]:
    """``weights`` ``(K, m)`` as C-contiguous float32, with zero columns appended where that is faster."""
    n_rows, n_columns = weights.shape
    width = _fastest_width(n_rows, n_columns)
    out = np.zeros((n_rows, width), dtype=np.float32)
    out[:, :n_columns] = weights
    return out


@functools.cache
def _fastest_width(n_rows: int, n_columns: int) -> int:
    """The candidate width whose product with ``(256, K)`` float32 patterns is fastest (one BLAS thread)."""
    from threadpoolctl import threadpool_limits

    candidates = sorted({n_columns, 4 * math.ceil(n_columns / 4), 8 * math.ceil(n_columns / 8)})
    if len(candidates) == 1:
        return n_columns
    block = np.ones((_PROBE_ROWS, n_rows), dtype=np.float32)
    best_s, best_width = math.inf, n_columns
    with threadpool_limits(limits=1, user_api="blas"):
        for width in candidates:
            weights = np.ones((n_rows, width), dtype=np.float32)
            block @ weights  # warm-up
            elapsed = min(_timed(block, weights) for _ in range(_PROBE_REPEATS))
            if elapsed < best_s * 0.95:  # a wider matrix must win clearly
                best_s, best_width = elapsed, width
    return best_width


def _timed(block: NDArray[np.float32], weights: NDArray[np.float32]) -> float:
    start = time.perf_counter()
    block @ weights
    return time.perf_counter() - start
