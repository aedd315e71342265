"""Global tile positions from pairwise links: weighted least squares with bad-link dropping.

Each kept link ``(a, b)`` asks ``X_b - X_a = offset_ab`` with weight = its
confidence; every tile is also tied to its prior position with a tiny weight,
so tiles without links, and components without a link to the rest, stay where
the (corrected) prior puts them (as ASHLAR places them by its stage model).
Links are dropped one at a time, worst first, while Fiji's criterion holds:
``(max > relative * mean and max > min_drop_px) or mean > absolute``
(defaults 2.5, 0.95 px and 3.5 px).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

__all__ = ["Link", "Solution", "solve_positions"]


@attrs.frozen(kw_only=True)
class Link:
    """A measured offset between two tiles.

    Attributes
    ----------
    a, b
        Tile indices.
    offset_px
        Measured ``(x, y)`` of ``b`` relative to ``a``.
    weight
        Confidence (> 0).
    """

    a: int
    b: int
    offset_px: tuple[float, float]
    weight: float


@attrs.frozen(kw_only=True)
class Solution:
    """Global positions and which links survived.

    Attributes
    ----------
    positions_px
        ``(n, 2)`` array of ``(x, y)``.
    kept, dropped
        Links used in the final solve, and links dropped as inconsistent.
    residual_px
        Residual of each kept link.
    """

    positions_px: NDArray[np.float64]
    kept: tuple[Link, ...]
    dropped: tuple[Link, ...]
    residual_px: tuple[float, ...]


def _solve(n: int, links: Sequence[Link], priors: NDArray[np.float64], prior_weight: float) -> NDArray[np.float64]:
    rows, cols, values = [], [], []
    rhs = np.zeros((n, 2))
    diagonal = np.full(n, prior_weight)
    rhs += prior_weight * priors
    for link in links:
        w = link.weight
        diagonal[link.a] += w
        diagonal[link.b] += w
        rows += [link.a, link.b]
        cols += [link.b, link.a]
        values += [-w, -w]
        rhs[link.b] += w * np.asarray(link.offset_px)
        rhs[link.a] -= w * np.asarray(link.offset_px)
    matrix = sp.coo_matrix((values, (rows, cols)), shape=(n, n)).tocsc() + sp.diags(diagonal, format="csc")
    factor = spla.splu(matrix)
    return np.column_stack([factor.solve(rhs[:, 0]), factor.solve(rhs[:, 1])])


def solve_positions(
    priors_px: Sequence[tuple[float, float]],
    links: Sequence[Link],
    *,
    prior_weight: float = 1e-4,
    relative: float = 2.5,
    absolute: float = 3.5,
    min_drop_px: float = 0.95,
) -> Solution:
    """Solve for positions; see the module docstring."""
    priors = np.asarray(priors_px, dtype=float).reshape(-1, 2)
    n = len(priors)
    for link in links:
        if not (0 <= link.a < n and 0 <= link.b < n) or link.a == link.b:
            raise ValueError(f"link {link.a}->{link.b} does not join two of the {n} tiles")
        if not link.weight > 0:
            raise ValueError(f"link {link.a}->{link.b} has weight {link.weight}; weights must be > 0")
    kept = list(links)
    dropped: list[Link] = []
    while True:
        positions = _solve(n, kept, priors, prior_weight)
        if not kept:
            return Solution(positions_px=positions, kept=(), dropped=tuple(dropped), residual_px=())
        residual = np.array([
            np.hypot(*(positions[k.b] - positions[k.a] - np.asarray(k.offset_px))) for k in kept
        ])
        worst = int(np.argmax(residual))
        mean, maximum = float(residual.mean()), float(residual[worst])
        if (maximum > relative * mean and maximum > min_drop_px) or mean > absolute:
            dropped.append(kept.pop(worst))
            continue
        return Solution(positions_px=positions, kept=tuple(kept), dropped=tuple(dropped),
                        residual_px=tuple(float(v) for v in residual))
