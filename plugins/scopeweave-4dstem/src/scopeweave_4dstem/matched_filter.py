"""Matched-filter scores to cluster assignment and confidence."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["confidence_report", "softmax"]


def softmax(scores: NDArray[np.floating[Any]], temperature: float) -> NDArray[np.float64]:
    """Row-wise ``exp(S_c / tau) / sum_j exp(S_j / tau)`` (shifted by the row maximum for stability)."""
    z = np.asarray(scores, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def confidence_report(confidence: NDArray[np.floating[Any]], n_clusters: int) -> dict[str, Any]:
    """Summary of the assignment confidence (the winning softmax probability) with a reading of it.

    A mean near 1 means saturated confidences (templates that over-fit, or a
    temperature too low to tell positions apart); a mean near ``1 / C``
    means the templates do not separate the clusters.
    """
    values = np.asarray(confidence, dtype=np.float64).ravel()
    mean = float(values.mean())
    chance = 1.0 / max(n_clusters, 1)
    if n_clusters < 2:
        note = "one cluster: confidence is 1 by construction"
    elif mean > 0.98:
        note = "saturated (mean > 0.98): templates may over-fit, or softmax_temp is too low to grade the assignment"
    elif mean < chance + 0.1 * (1 - chance):
        note = "near chance: the templates hardly separate the clusters"
    else:
        note = "graded: clusters are separated and the confidence carries information"
    return {
        "mean": mean,
        "median": float(np.median(values)),
        "fraction_above_0_9": float(np.mean(values > 0.9)),
        "chance_level": chance,
        "note": note,
    }
