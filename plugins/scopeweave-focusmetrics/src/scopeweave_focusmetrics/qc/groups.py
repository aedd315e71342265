"""Stable groups of frames: anchor / template correlation, largest clique, DBSCAN segments."""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import NDArray
from scopeweave_focusmetrics.correlation import correlate_with, standardise

__all__ = ["GroupChoice", "anchor_group", "dbscan_segments", "largest_clique", "template_group"]


@attrs.frozen(kw_only=True)
class GroupChoice:
    """Frames kept by the drift step, the segments found, and the correlations used."""

    kept: NDArray[np.int64]
    segments: list[list[int]]
    reference_corr: NDArray[np.float64] | None
    reason: str


def _anchor_row(z: NDArray[np.float32], candidates: NDArray[np.int64], oriented: NDArray[np.float64], *,
                anchor: str, top_k: int) -> tuple[NDArray[np.float32], list[int]]:
    order = candidates[np.argsort(-oriented[candidates], kind="stable")]
    members = order[:1] if anchor == "sharpest" else order[:top_k]
    row = z[members].astype(np.float64).mean(axis=0)
    norm = float(np.linalg.norm(row - row.mean()))
    standard = ((row - row.mean()) / norm if norm > 0 else np.zeros_like(row)).astype(np.float32)
    return standard, members.tolist()


def anchor_group(z: NDArray[np.float32], candidates: NDArray[np.int64], oriented: NDArray[np.float64], *,
                 anchor: str, top_k: int, min_corr: float) -> GroupChoice:
    """Keep candidates whose correlation with the anchor (sharpest frame, or mean of the top-k) is >= min_corr."""
    if candidates.size == 0:
        return GroupChoice(kept=candidates, segments=[], reference_corr=None, reason="no candidate frames")
    row, members = _anchor_row(z, candidates, oriented, anchor=anchor, top_k=top_k)
    corr = correlate_with(z, row)
    kept = candidates[corr[candidates] >= min_corr]
    return GroupChoice(kept=kept, segments=[kept.tolist()], reference_corr=corr,
                       reason=f"anchor = {'frame' if len(members) == 1 else 'mean of frames'} {members}; "
                              f"keep corr >= {min_corr}")


def template_group(z: NDArray[np.float32], candidates: NDArray[np.int64], template: NDArray[np.generic], *,
                   bin_px: int, min_corr: float) -> GroupChoice:
    """Keep candidates whose correlation with a golden template image is >= min_corr."""
    row = standardise(np.asarray(template)[np.newaxis], bin_px=bin_px)[0]
    if row.shape != z.shape[1:]:
        raise ValueError(f"the template (shape {np.shape(template)}) does not match the frames.")
    corr = correlate_with(z, row)
    kept = candidates[corr[candidates] >= min_corr]
    return GroupChoice(kept=kept, segments=[kept.tolist()], reference_corr=corr,
                       reason=f"golden template; keep corr >= {min_corr}")


def largest_clique(matrix: NDArray[np.float64], candidates: NDArray[np.int64], oriented: NDArray[np.float64], *,
                   min_corr: float) -> GroupChoice:
    """The largest set of candidates that are all pairwise correlated >= min_corr (ties: the sharper set).

    Exact maximum clique (networkx branch and bound); correlation graphs of stacks are close to interval
    graphs, which keeps it fast for hundreds of frames.
    """
    import networkx as nx

    if candidates.size == 0:
        return GroupChoice(kept=candidates, segments=[], reference_corr=None, reason="no candidate frames")
    graph = nx.Graph()
    ranks = np.argsort(np.argsort(oriented[candidates]))
    base = 1000 * (len(candidates) + 1)
    for node, rank in zip(candidates.tolist(), ranks.tolist(), strict=False):
        graph.add_node(node, weight=base + int(999 * rank / max(len(candidates) - 1, 1)))
    sub = matrix[np.ix_(candidates, candidates)]
    rows, cols = np.nonzero(np.triu(sub >= min_corr, k=1))
    graph.add_edges_from(zip(candidates[rows].tolist(), candidates[cols].tolist(), strict=False))
    clique, _ = nx.max_weight_clique(graph, weight="weight")
    kept = np.array(sorted(clique), dtype=np.int64)
    components = [sorted(c) for c in nx.connected_components(graph)]
    components.sort(key=lambda c: (-len(c), c[0]))
    return GroupChoice(kept=kept, segments=components, reference_corr=None,
                       reason=f"largest clique of candidates with pairwise corr >= {min_corr} ({len(kept)} frames)")


def dbscan_segments(matrix: NDArray[np.float64], candidates: NDArray[np.int64], oriented: NDArray[np.float64], *,
                    min_corr: float, min_samples: int) -> GroupChoice:
    """DBSCAN on the correlation distance 1 - r (eps = 1 - min_corr); keep the largest segment.

    Ties go to the segment with the sharpest frame. Candidates in no segment are noise (drift).
    """
    from sklearn.cluster import DBSCAN

    if candidates.size == 0:
        return GroupChoice(kept=candidates, segments=[], reference_corr=None, reason="no candidate frames")
    distance = np.clip(1.0 - matrix[np.ix_(candidates, candidates)], 0.0, 2.0)
    labels = DBSCAN(eps=max(1.0 - min_corr, 1e-9), min_samples=min_samples, metric="precomputed").fit_predict(distance)
    segments = [sorted(candidates[labels == label].tolist()) for label in sorted(set(labels.tolist()) - {-1})]
    if not segments:
        return GroupChoice(kept=np.zeros(0, dtype=np.int64), segments=[], reference_corr=None,
                           reason=f"DBSCAN (eps {1 - min_corr:.4g}, min_samples {min_samples}) found no segment")
    segments.sort(key=lambda s: (-len(s), -float(np.max(oriented[s]))))
    return GroupChoice(kept=np.array(segments[0], dtype=np.int64), segments=segments, reference_corr=None,
                       reason=f"DBSCAN on 1 - r (eps {1 - min_corr:.4g}, min_samples {min_samples}): "
                              f"{len(segments)} segment(s); kept the largest")
