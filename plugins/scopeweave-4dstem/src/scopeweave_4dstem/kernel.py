"""The per-block work of the mapping pass: one matrix product per block.

For every gate set ``s`` (one per cluster in ``adaptive`` mode, one
otherwise) the CoM needs three masks applied to each raw pattern::

    m0 = sum_k G_s(k) I(k),  my = sum_k G_s(k) (k_y - c_y) I(k),  mx = ... (k_x - c_x) ...

and the matched filter needs ``f(I) @ W`` with ``W = T / (sigma + eps)``,
plus the pattern's background mean.  All of them are columns of one weight
matrix (two when the log transform makes ``f`` non-linear), so a block of
``n`` patterns costs one ``(n, K) @ (K, m)`` product (as LiberTEM's CoM
does with its three masks), on NumPy or CuPy alike.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_4dstem.gemm import padded

__all__ = ["MapKernel", "com_columns", "com_from_moments"]


def com_columns(gate_sets: NDArray[np.floating[Any]], centre_yx: tuple[float, float]) -> NDArray[np.float32]:
    """``(K, 3 S)`` mask columns ``[G, G (k_y - c_y), G (k_x - c_x)]`` for each of ``S`` gate sets."""
    n_sets, ny, nx = gate_sets.shape
    ky = (np.arange(ny, dtype=np.float64)[:, None] - centre_yx[0]) * np.ones((1, nx))
    kx = np.ones((ny, 1)) * (np.arange(nx, dtype=np.float64)[None, :] - centre_yx[1])
    columns = np.empty((ny * nx, 3 * n_sets), dtype=np.float64)
    for s, gate in enumerate(gate_sets.astype(np.float64)):
        columns[:, 3 * s] = gate.ravel()
        columns[:, 3 * s + 1] = (gate * ky).ravel()
        columns[:, 3 * s + 2] = (gate * kx).ravel()
    return columns.astype(np.float32)


def com_from_moments(
    moments: NDArray[np.floating[Any]], choice: NDArray[np.integer[Any]] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """CoM ``(c_y, c_x)`` in pixels from the ``(n, 3 S)`` mask responses.

    ``choice`` picks the gate set of each pattern (default set 0).  Patterns
    with no gated intensity (``m0 <= 0``) get NaN.
    """
    n = moments.shape[0]
    sets = np.zeros(n, dtype=np.intp) if choice is None else np.asarray(choice, dtype=np.intp)
    rows = np.arange(n)
    m0 = moments[rows, 3 * sets].astype(np.float64)
    my = moments[rows, 3 * sets + 1].astype(np.float64)
    mx = moments[rows, 3 * sets + 2].astype(np.float64)
    empty = ~(m0 > 0)
    safe = np.where(empty, 1.0, m0)
    return np.where(empty, np.nan, my / safe), np.where(empty, np.nan, mx / safe)


@attrs.frozen(kw_only=True, eq=False)
class MapKernel:
    """Weights of the mapping pass and the layout of its output columns.

    Attributes
    ----------
    com_weights
        ``(K, 3 S)`` CoM mask columns, applied to the raw patterns.
    filter_weights
        ``(K, C + 1)`` matched-filter weights ``W`` and the background-mean
        column, applied to ``f(I)``; ``None`` without clusters.
    log_transform
        Whether ``f`` is ``log(1 + max(I, 0))`` (else the identity, and all
        columns share one product).
    tile_bytes
        On the CPU a block is worked through in tiles of about this many
        bytes of float32 patterns, so the cast, the log and the second
        product find the tile in cache.
    """

    com_weights: NDArray[np.float32]
    filter_weights: NDArray[np.float32] | None
    log_transform: bool
    tile_bytes: int = 2 * 1024 * 1024
    _linear: NDArray[np.float32] = attrs.field(init=False, repr=False)
    _n_linear: int = attrs.field(init=False, repr=False)
    _logged: NDArray[np.float32] | None = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        linear = self.com_weights
        if self.filter_weights is not None and not self.log_transform:
            linear = np.concatenate([self.com_weights, self.filter_weights], axis=1)
        # Widened where BLAS multiplies faster (zero columns, dropped from the products).
        object.__setattr__(self, "_linear", padded(linear))
        object.__setattr__(self, "_n_linear", int(linear.shape[1]))
        logged = None if self.filter_weights is None or not self.log_transform else padded(self.filter_weights)
        object.__setattr__(self, "_logged", logged)

    @property
    def n_com_columns(self) -> int:
        """Columns holding CoM mask responses (they come first)."""
        return int(self.com_weights.shape[1])

    @property
    def n_columns(self) -> int:
        """All output columns."""
        extra = 0 if self.filter_weights is None else self.filter_weights.shape[1]
        return self.n_com_columns + int(extra)

    def apply(self, frames: Any, xp: ModuleType = np) -> Any:
        """``(n, k_y, k_x)`` patterns to ``(n, m)`` float32 responses (CoM columns first)."""
        values = xp.asarray(frames)
        values = values.reshape(values.shape[0], -1)
        if xp is not np:
            return self._apply_whole(values.astype(xp.float32, copy=False), xp)
        n, n_pixels = values.shape
        if values.dtype == np.float32 and self._logged is None:
            return (values @ self._linear)[:, : self._n_linear]  # one product over the whole block
        out = np.empty((n, self.n_columns), dtype=np.float32)
        step = max(1, self.tile_bytes // (4 * n_pixels))
        scratch = np.empty((min(step, n), n_pixels), dtype=np.float32) if self._logged is not None else None
        unsigned = values.dtype.kind == "u"
        for start in range(0, n, step):
            stop = min(start + step, n)
            tile = values[start:stop].astype(np.float32, copy=False)
            out[start:stop, : self._n_linear] = (tile @ self._linear)[:, : self._n_linear]
            if scratch is not None and self._logged is not None:
                logged = scratch[: stop - start]
                if unsigned:  # counts are never negative: no clipping pass
                    np.log1p(tile, out=logged)
                else:
                    np.log1p(np.maximum(tile, 0, out=logged), out=logged)
                out[start:stop, self.n_com_columns :] = (logged @ self._logged)[:, : self.n_columns - self.n_com_columns]
        return out

    def _apply_whole(self, values: Any, xp: ModuleType) -> Any:
        linear = values @ xp.asarray(self._linear[:, : self._n_linear])
        if self.filter_weights is None or not self.log_transform:
            return linear
        logged = xp.log1p(xp.maximum(values, 0))
        return xp.concatenate([linear, logged @ xp.asarray(self.filter_weights)], axis=1)


def filter_weights(
    templates: NDArray[np.float64],
    sigma: NDArray[np.float64],
    *,
    keep: NDArray[np.bool_],
    whiten: str,
    epsilon: float,
) -> NDArray[np.float64]:
    """``(K, C + 1)``: ``W = T / (sigma + eps)`` (or ``T``) and the background-mean column ``keep / |keep|``."""
    weights = templates.T.copy()
    if whiten == "diag":
        weights /= (sigma + epsilon)[:, None]
    background = keep.astype(np.float64) / max(int(keep.sum()), 1)
    return np.concatenate([weights, background[:, None]], axis=1)


def matched_filter_scores(
    responses: NDArray[np.floating[Any]],
    weights: NDArray[np.float64],
    mu: NDArray[np.float64],
    *,
    background_subtract: bool,
) -> NDArray[np.float64]:
    """Scores ``S_c = sum_k W_c(k) (P(k) - mu(k))`` from the ``(n, C + 1)`` filter responses.

    With ``P = f(I) - b``: ``S = f(I) @ W - b * sum_k W - mu @ W``.
    """
    n_clusters = weights.shape[1] - 1
    raw = responses[:, :n_clusters].astype(np.float64)
    w = weights[:, :n_clusters]
    scores = raw - (mu @ w)[None, :]
    if background_subtract:
        scores -= responses[:, n_clusters : n_clusters + 1].astype(np.float64) * w.sum(axis=0)[None, :]
    return scores
