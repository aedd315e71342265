"""LAP tracking with gap closing (Jaqaman et al., Nat Methods 5:695, 2008).

Step 1 links localizations of consecutive frames: a linear assignment of the
sources of frame t to the targets of frame t + 1 or to "no link"
(cost = squared distance; links longer than ``max_link_distance_nm`` are
blocked; ending a track costs ``alternative_cost_factor * max_link_distance_nm^2``).
Step 2 closes gaps: the ends of the segments from step 1 are assigned to
segment starts 2 to ``max_gap_frames + 1`` frames later, with the gate widened
as ``max_link_distance_nm * sqrt(frames apart)`` (diffusive growth) and cost
``distance^2 / frames apart``.  Both assignments are solved optimally
(``scipy.optimize.linear_sum_assignment``), group by group of candidate pairs.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave_puncta.table import LocalizationTable

__all__ = ["TrackingParams", "Tracks", "link_tracks"]


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def _non_negative_int(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


@attrs.frozen(kw_only=True)
class TrackingParams:
    """LAP linking.

    Attributes
    ----------
    max_link_distance_nm
        Largest displacement between consecutive frames.
    max_gap_frames
        Most frames a punctum may be missing (blinking, missed detection) and still be linked.
    alternative_cost_factor
        Cost of ending/starting a track, in units of ``max_link_distance_nm^2`` (TrackMate: 1.05).
    min_track_length
        Tracks with fewer localizations are dropped from the tracks table.
    """

    max_link_distance_nm: float = attrs.field(default=400.0, validator=_positive)
    max_gap_frames: int = attrs.field(default=2, validator=_non_negative_int)
    alternative_cost_factor: float = attrs.field(default=1.05, validator=_positive)
    min_track_length: int = attrs.field(default=1, validator=_non_negative_int)


@attrs.frozen(kw_only=True, eq=False)
class Tracks:
    """Localizations with a track identity.

    Attributes
    ----------
    localizations
        The linked localizations, sorted by track then frame.
    track_id
        Track of each row (0, 1, ...).
    """

    localizations: LocalizationTable
    track_id: NDArray[np.int64] = attrs.field(converter=lambda v: np.asarray(v, dtype=np.int64).reshape(-1))

    def __attrs_post_init__(self) -> None:
        if len(self.track_id) != len(self.localizations):
            raise ValueError("track_id and localizations differ in length.")

    def __len__(self) -> int:
        return len(self.track_id)

    @property
    def n_tracks(self) -> int:
        """Number of distinct tracks."""
        return len(np.unique(self.track_id))

    def track_ids(self) -> NDArray[np.int64]:
        """Distinct track ids, ascending."""
        return np.unique(self.track_id)

    def columns(self) -> dict[str, NDArray[Any]]:
        """``track_id`` then the localization columns (the layout of ``tracks.csv``)."""
        return {"track_id": self.track_id, **self.localizations.columns()}


def _assign(rows: NDArray[np.intp], cols: NDArray[np.intp], cost: NDArray[np.float64], n_rows: int,
            alternative: float) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Optimal links among candidate pairs; each row may instead take ``alternative`` (no link)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    empty = np.zeros(0, dtype=np.intp)
    if rows.size == 0:
        return empty, empty
    n_cols = int(cols.max()) + 1
    graph = coo_matrix((np.ones(rows.size), (rows, n_rows + cols)), shape=(n_rows + n_cols, n_rows + n_cols))
    _, labels = connected_components(graph, directed=False)
    group = labels[rows]
    order = np.argsort(group, kind="stable")
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    out_r: list[NDArray[np.intp]] = [empty]
    out_c: list[NDArray[np.intp]] = [empty]
    for chunk in np.split(order, bounds):
        ur, ir = np.unique(rows[chunk], return_inverse=True)
        uc, ic = np.unique(cols[chunk], return_inverse=True)
        matrix = np.full((len(ur), len(uc) + len(ur)), np.inf)
        matrix[ir, ic] = cost[chunk]
        matrix[np.arange(len(ur)), len(uc) + np.arange(len(ur))] = alternative
        sr, sc = linear_sum_assignment(matrix)
        linked = sc < len(uc)
        out_r.append(ur[sr[linked]])
        out_c.append(uc[sc[linked]])
    return np.concatenate(out_r), np.concatenate(out_c)


def _frame_to_frame(frame: NDArray[np.int64], xy: NDArray[np.float64], params: TrackingParams
                    ) -> NDArray[np.intp]:
    """``successor[i]``: the row linked after row ``i`` in the next frame, or -1."""
    from scipy.spatial import cKDTree

    successor = np.full(len(frame), -1, dtype=np.intp)
    alternative = params.alternative_cost_factor * params.max_link_distance_nm**2
    frames = np.unique(frame)
    starts = np.searchsorted(frame, frames, "left")
    ends = np.searchsorted(frame, frames, "right")
    for k in range(len(frames) - 1):
        if frames[k + 1] != frames[k] + 1:
            continue
        src = np.arange(starts[k], ends[k])
        dst = np.arange(starts[k + 1], ends[k + 1])
        pairs = cKDTree(xy[src]).query_ball_tree(cKDTree(xy[dst]), r=params.max_link_distance_nm)
        rows = np.fromiter((i for i, js in enumerate(pairs) for _ in js), dtype=np.intp)
        cols = np.fromiter((j for js in pairs for j in js), dtype=np.intp)
        cost = np.sum((xy[src][rows] - xy[dst][cols]) ** 2, axis=1)
        r, c = _assign(rows, cols, cost, len(src), alternative)
        successor[src[r]] = dst[c]
    return successor


def _segments(successor: NDArray[np.intp]) -> list[NDArray[np.intp]]:
    has_predecessor = np.zeros(len(successor), dtype=bool)
    has_predecessor[successor[successor >= 0]] = True
    segments = []
    for head in np.flatnonzero(~has_predecessor):
        chain = [head]
        while successor[chain[-1]] >= 0:
            chain.append(successor[chain[-1]])
        segments.append(np.asarray(chain, dtype=np.intp))
    return segments


def _close_gaps(segments: list[NDArray[np.intp]], frame: NDArray[np.int64], xy: NDArray[np.float64],
                params: TrackingParams) -> NDArray[np.intp]:
    """``next_segment[s]``: the segment that continues segment ``s`` after a gap, or -1."""
    from scipy.spatial import cKDTree

    n = len(segments)
    following = np.full(n, -1, dtype=np.intp)
    if params.max_gap_frames == 0 or n < 2:
        return following
    end_frame = np.array([frame[s[-1]] for s in segments])
    start_frame = np.array([frame[s[0]] for s in segments])
    end_xy = np.array([xy[s[-1]] for s in segments])
    start_xy = np.array([xy[s[0]] for s in segments])
    reach = params.max_link_distance_nm * math.sqrt(params.max_gap_frames + 1)
    pairs = cKDTree(end_xy).query_ball_tree(cKDTree(start_xy), r=reach)
    rows = np.fromiter((i for i, js in enumerate(pairs) for _ in js), dtype=np.intp)
    cols = np.fromiter((j for js in pairs for j in js), dtype=np.intp)
    gap = start_frame[cols] - end_frame[rows]
    d2 = np.sum((end_xy[rows] - start_xy[cols]) ** 2, axis=1)
    ok = (gap >= 2) & (gap <= params.max_gap_frames + 1) & (d2 <= params.max_link_distance_nm**2 * gap)
    rows, cols, cost = rows[ok], cols[ok], d2[ok] / gap[ok]
    alternative = params.alternative_cost_factor * params.max_link_distance_nm**2
    r, c = _assign(rows, cols, cost, n, alternative)
    following[r] = c
    return following


def link_tracks(localizations: LocalizationTable, params: TrackingParams) -> Tracks:
    """Link ``localizations`` into tracks (frame-to-frame LAP, then gap closing)."""
    table = localizations.sorted_by_frame()
    if len(table) == 0:
        return Tracks(localizations=table, track_id=np.zeros(0, dtype=np.int64))
    xy = np.column_stack([table.x_nm, table.y_nm])
    successor = _frame_to_frame(table.frame, xy, params)
    segments = _segments(successor)
    following = _close_gaps(segments, table.frame, xy, params)
    is_continuation = np.zeros(len(segments), dtype=bool)
    is_continuation[following[following >= 0]] = True
    rows: list[NDArray[np.intp]] = []
    ids: list[NDArray[np.int64]] = []
    track = 0
    heads = sorted(np.flatnonzero(~is_continuation), key=lambda s: (table.frame[segments[s][0]], segments[s][0]))
    for head in heads:
        chain = [segments[head]]
        nxt = following[head]
        while nxt >= 0:
            chain.append(segments[nxt])
            nxt = following[nxt]
        members = np.concatenate(chain)
        if len(members) < params.min_track_length:
            continue
        rows.append(members)
        ids.append(np.full(len(members), track, dtype=np.int64))
        track += 1
    if not rows:
        return Tracks(localizations=table.select(np.zeros(0, dtype=np.intp)), track_id=np.zeros(0, dtype=np.int64))
    return Tracks(localizations=table.select(np.concatenate(rows)), track_id=np.concatenate(ids))
