"""Optimal one-to-one matching of two point sets within a tolerance radius.

Per frame, pairs closer than the tolerance are matched so that the number of
pairs is maximal and, among those, the summed squared distance is minimal
(``scipy.optimize.linear_sum_assignment`` on the gated squared distances; the
SMLM-challenge convention with an optimal instead of a greedy assignment).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["match_per_frame", "match_points"]


def match_points(
    a_xy: NDArray[np.float64], b_xy: NDArray[np.float64], tolerance: float
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Indices ``(ia, ib)`` of matched pairs between ``a_xy (n, 2)`` and ``b_xy (m, 2)``.

    Only pairs at distance ``<= tolerance`` are matched; the pairing maximises
    the number of pairs, then minimises the summed squared distance.  Work is
    split into connected groups of candidate pairs, so large sparse sets stay fast.
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    n, m = len(a_xy), len(b_xy)
    empty = np.zeros(0, dtype=np.intp)
    if n == 0 or m == 0:
        return empty, empty
    pairs = cKDTree(a_xy).query_ball_tree(cKDTree(b_xy), r=tolerance)
    rows = np.fromiter((i for i, js in enumerate(pairs) for _ in js), dtype=np.intp)
    cols = np.fromiter((j for js in pairs for j in js), dtype=np.intp)
    if rows.size == 0:
        return empty, empty
    graph = coo_matrix((np.ones(rows.size), (rows, n + cols)), shape=(n + m, n + m))
    _, labels = connected_components(graph, directed=False)
    d2 = np.sum((a_xy[rows] - b_xy[cols]) ** 2, axis=1)
    group = labels[rows]
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    out_a: list[NDArray[np.intp]] = []
    out_b: list[NDArray[np.intp]] = []
    for chunk in np.split(order, bounds):
        ra, cb = rows[chunk], cols[chunk]
        if chunk.size == 1:
            out_a.append(ra)
            out_b.append(cb)
            continue
        ua, ia = np.unique(ra, return_inverse=True)
        ub, ib = np.unique(cb, return_inverse=True)
        # A blocked pair costs more than any full set of allowed pairs, so the
        # assignment first maximises the number of allowed pairs.
        blocked = tolerance * tolerance * (min(len(ua), len(ub)) + 1) + 1.0
        cost = np.full((len(ua), len(ub)), blocked)
        cost[ia, ib] = d2[chunk]
        sa, sb = linear_sum_assignment(cost)
        keep = cost[sa, sb] < blocked
        out_a.append(ua[sa[keep]])
        out_b.append(ub[sb[keep]])
    return np.concatenate(out_a), np.concatenate(out_b)


def match_per_frame(
    frame_a: NDArray[np.int64],
    xy_a: NDArray[np.float64],
    frame_b: NDArray[np.int64],
    xy_b: NDArray[np.float64],
    tolerance: float,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Match two tables frame by frame; returns global row indices ``(ia, ib)``."""
    order_a = np.argsort(frame_a, kind="stable")
    order_b = np.argsort(frame_b, kind="stable")
    fa, fb = frame_a[order_a], frame_b[order_b]
    out_a: list[NDArray[np.intp]] = [np.zeros(0, dtype=np.intp)]
    out_b: list[NDArray[np.intp]] = [np.zeros(0, dtype=np.intp)]
    for frame in np.intersect1d(fa, fb):
        sel_a = order_a[np.searchsorted(fa, frame, "left"):np.searchsorted(fa, frame, "right")]
        sel_b = order_b[np.searchsorted(fb, frame, "left"):np.searchsorted(fb, frame, "right")]
        ia, ib = match_points(xy_a[sel_a], xy_b[sel_b], tolerance)
        out_a.append(sel_a[ia])
        out_b.append(sel_b[ib])
    return np.concatenate(out_a), np.concatenate(out_b)
