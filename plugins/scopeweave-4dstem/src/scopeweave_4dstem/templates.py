"""Cluster-guided differential templates and the virtual-detector gates made from them.

Templates::

    mu_c(k) = mean of the cluster's (preprocessed) patterns
    mu(k), sigma(k) = mean and standard deviation over all patterns
    T_c(k) = (mu_c(k) - mu(k)) / (sigma(k) + eps)     ("diag" whitening)
    T_c(k) = 0 inside the central mask;  T_c /= ||T_c||_2

Gates::

    G_c = T_c >= percentile(T_c, 100 - top_percent)    (over the valid pixels)
    G_c = 0.5 (G_c + G_c reflected through the beam centre)
    G_c = gaussian(G_c, smooth_sigma) * radial band * valid
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from scopeweave_4dstem.geometry import band_mask, reflect_about
from scopeweave_4dstem.stats import GroupMoments

__all__ = [
    "ClusterStats",
    "cluster_stats",
    "differential_templates",
    "gate_coverage",
    "make_gates",
    "split_half_ssim",
]


@attrs.frozen(kw_only=True, eq=False)
class ClusterStats:
    """Statistics of the preprocessed patterns, flattened over the detector.

    Attributes
    ----------
    counts
        ``(C,)`` patterns per cluster.
    mu_cluster
        ``(C, K)`` cluster mean patterns.
    mu
        ``(K,)`` mean over all patterns (labelled or not).
    sigma
        ``(K,)`` standard deviation over all patterns (population).
    half_mu
        ``(C, 2, K)`` cluster means of each random half; ``half_counts``
        ``(C, 2)`` their sizes.
    """

    counts: NDArray[np.int64]
    mu_cluster: NDArray[np.float64]
    mu: NDArray[np.float64]
    sigma: NDArray[np.float64]
    half_mu: NDArray[np.float64]
    half_counts: NDArray[np.int64]


def cluster_stats(moments: GroupMoments, n_clusters: int) -> ClusterStats:
    """Pool the per-(cluster, half) moments; group ``2 c + h``, unlabelled patterns in cluster ``C``."""
    n_groups = moments.count.shape[0]
    total, mu, m2 = moments.pooled(range(n_groups))
    counts = np.zeros(n_clusters, dtype=np.int64)
    mu_cluster = np.zeros((n_clusters, mu.shape[0]))
    for c in range(n_clusters):
        counts[c], mu_cluster[c], _ = moments.pooled([2 * c, 2 * c + 1])
    return ClusterStats(
        counts=counts,
        mu_cluster=mu_cluster,
        mu=mu,
        sigma=np.sqrt(np.maximum(m2 / max(total, 1), 0.0)),
        half_mu=moments.mean[: 2 * n_clusters].reshape(n_clusters, 2, -1).copy(),
        half_counts=moments.count[: 2 * n_clusters].reshape(n_clusters, 2).copy(),
    )


def differential_templates(
    mu_cluster: NDArray[np.float64],
    mu: NDArray[np.float64],
    sigma: NDArray[np.float64],
    *,
    keep: NDArray[np.bool_],
    whiten: str,
    epsilon: float,
) -> NDArray[np.float64]:
    """L2-normalised differential templates ``T_c`` of shape ``(C, K)``.

    Parameters
    ----------
    mu_cluster, mu, sigma
        Cluster means ``(C, K)``, global mean and standard deviation ``(K,)``.
    keep
        ``(K,)`` pixels outside the central mask (others get zero weight).
    whiten
        ``"diag"`` divides by ``sigma + epsilon``; ``"none"`` does not.
    epsilon
        Regularises the division where ``sigma`` is ~0.
    """
    templates = mu_cluster - mu[None, :]
    if whiten == "diag":
        templates = templates / (sigma[None, :] + epsilon)
    templates[:, ~keep] = 0.0
    norms = np.linalg.norm(templates, axis=1, keepdims=True)
    return np.divide(templates, norms, out=np.zeros_like(templates), where=norms > 0)


def make_gates(
    templates: NDArray[np.float64],
    frame_shape: tuple[int, int],
    centre_yx: tuple[float, float],
    *,
    top_percent: float,
    smooth_sigma_px: float,
    roi_r_px: tuple[float, float] | None,
    keep: NDArray[np.bool_],
) -> NDArray[np.float32]:
    """Virtual-detector gates ``(C, k_y, k_x)`` in ``[0, 1]``, symmetric about the beam centre.

    The percentile threshold is taken over the valid pixels (outside the
    central mask and inside the radial band), so masked pixels do not count
    towards ``top_percent``.
    """
    valid = keep.reshape(frame_shape) & band_mask(frame_shape, centre_yx, roi_r_px)
    if not valid.any():
        raise ValueError(
            f"no detector pixel is left for the gates: the central mask and the band {roi_r_px} exclude all of them."
        )
    gates = np.zeros((templates.shape[0], *frame_shape), dtype=np.float32)
    for c, template in enumerate(templates):
        image = template.reshape(frame_shape)
        threshold = np.percentile(image[valid], 100.0 - top_percent)
        binary = ((image >= threshold) & valid).astype(np.float64)
        gate = 0.5 * (binary + reflect_about(binary, centre_yx))
        if smooth_sigma_px > 0:
            gate = ndimage.gaussian_filter(gate, smooth_sigma_px, mode="constant")
        gates[c] = gate * valid
    return gates


def gate_coverage(gates: NDArray[np.float32]) -> NDArray[np.float64]:
    """Fraction of detector pixels where each gate is at least 0.5."""
    return (gates >= 0.5).reshape(gates.shape[0], -1).mean(axis=1)


def split_half_ssim(
    stats: ClusterStats,
    frame_shape: tuple[int, int],
    *,
    keep: NDArray[np.bool_],
    whiten: str,
    epsilon: float,
) -> Sequence[float]:
    """SSIM between the templates built from each random half, per cluster (NaN if a half is empty)."""
    from skimage.metrics import structural_similarity

    values: list[float] = []
    for c in range(stats.counts.shape[0]):
        if min(stats.half_counts[c]) == 0:
            values.append(float("nan"))
            continue
        halves = differential_templates(
            stats.half_mu[c], stats.mu, stats.sigma, keep=keep, whiten=whiten, epsilon=epsilon
        )
        a, b = (h.reshape(frame_shape) for h in halves)
        data_range = float(max(a.max(), b.max()) - min(a.min(), b.min())) or 1.0
        values.append(float(structural_similarity(a, b, data_range=data_range)))
    return values
