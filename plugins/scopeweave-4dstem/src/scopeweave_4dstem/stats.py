"""Per-group pattern statistics as partial sums that merge in any order.

A group is a (cluster, split half) pair.  Each partial holds, per group and
detector pixel, the count, the mean and the sum of squared deviations; two
partials merge with Chan, Golub and LeVeque's pairwise update, which is
exact in real arithmetic and order-independent up to rounding (~1e-15
relative in float64).  Cluster means, the global mean and standard
deviation and split-half means all come out of one pass over the data.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import reduce
from types import ModuleType
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

__all__ = ["GroupMoments", "GroupSums", "group_index", "merge_all"]


def group_index(label_index: NDArray[np.integer[Any]], half: NDArray[np.integer[Any]]) -> NDArray[np.int32]:
    """Group of each probe position: ``2 * label_index + half``."""
    return (2 * np.asarray(label_index) + np.asarray(half)).astype(np.int32)


@attrs.define(kw_only=True, eq=False)
class GroupMoments:
    """Count, mean and sum of squared deviations of patterns per group.

    Attributes
    ----------
    count
        ``(G,)`` number of patterns per group.
    mean
        ``(G, K)`` mean pattern per group (float64).
    m2
        ``(G, K)`` sum of squared deviations from the group mean (float64).
    """

    count: NDArray[np.int64]
    mean: NDArray[np.float64]
    m2: NDArray[np.float64]

    @classmethod
    def empty(cls, n_groups: int, n_pixels: int, xp: ModuleType = np) -> GroupMoments:
        """No patterns yet (arrays of the array module ``xp``)."""
        return cls(
            count=np.zeros(n_groups, dtype=np.int64),
            mean=xp.zeros((n_groups, n_pixels)),
            m2=xp.zeros((n_groups, n_pixels)),
        )

    @classmethod
    def of_block(
        cls, values: Any, groups: NDArray[np.integer[Any]], n_groups: int, xp: ModuleType = np
    ) -> GroupMoments:
        """Moments of ``(n, K)`` patterns (NumPy or CuPy) whose groups are ``groups``."""
        sums = GroupSums(n_groups, values.shape[1], xp)
        sums.add(values.copy(), groups)
        return sums.moments()

    def to_numpy(self) -> GroupMoments:
        """The same moments with NumPy arrays (CuPy arrays are copied to the host)."""
        return GroupMoments(count=self.count, mean=_host(self.mean), m2=_host(self.m2))

    def merge(self, other: GroupMoments) -> GroupMoments:
        """The moments of both sets of patterns (neither input is modified)."""
        n_a, n_b = self.count.astype(np.float64), other.count.astype(np.float64)
        n = n_a + n_b
        safe = n + (n == 0)
        w_b = (n_b / safe)[:, None]
        w_ab = (n_a * n_b / safe)[:, None]
        delta = other.mean - self.mean
        if not isinstance(self.mean, np.ndarray):  # CuPy: the weights go to the device
            xp = _module_of(self.mean)
            w_b, w_ab = xp.asarray(w_b), xp.asarray(w_ab)
        return GroupMoments(
            count=self.count + other.count,
            mean=self.mean + delta * w_b,
            m2=self.m2 + other.m2 + delta * delta * w_ab,
        )

    def pooled(self, groups: Sequence[int]) -> tuple[int, NDArray[np.float64], NDArray[np.float64]]:
        """Count, mean and sum of squared deviations of the union of ``groups``."""
        parts = [self.select(g) for g in groups]
        merged = reduce(GroupMoments.merge, parts)
        return int(merged.count[0]), merged.mean[0], merged.m2[0]

    def select(self, group: int) -> GroupMoments:
        """One group as a one-group partial."""
        return GroupMoments(
            count=self.count[group : group + 1].copy(),
            mean=self.mean[group : group + 1].copy(),
            m2=self.m2[group : group + 1].copy(),
        )


class GroupSums:
    """Accumulates per-group sums of patterns, tile after tile, into one :class:`GroupMoments`.

    The sums are taken of the patterns minus a reference (the first pattern
    added), so the sums of squares do not cancel; each tile's sums come from
    two matrix products with a one-hot group matrix in the dtype of the tile
    (float32 is ample over one tile) and are accumulated in float64.  Adding
    a tile costs two products and two ``(G, K)`` additions, so per-tile cost
    stays small next to the tile itself.

    Parameters
    ----------
    n_groups, n_pixels
        ``G`` and ``K``.
    xp
        Array module of the tiles (NumPy or CuPy).
    """

    def __init__(self, n_groups: int, n_pixels: int, xp: ModuleType = np) -> None:
        self.xp = xp
        self.count = np.zeros(n_groups, dtype=np.int64)
        self.s1 = xp.zeros((n_groups, n_pixels))
        self.s2 = xp.zeros((n_groups, n_pixels))
        self.reference: Any = None

    def add(self, values: Any, groups: NDArray[np.integer[Any]]) -> None:
        """Add ``(n, K)`` patterns of ``groups``; ``values`` is overwritten (used as scratch)."""
        xp = self.xp
        n = values.shape[0]
        if n == 0:
            return
        if self.reference is None:
            self.reference = values[0].copy()
        values -= self.reference
        onehot = xp.zeros((self.count.size, n), dtype=values.dtype)
        onehot[xp.asarray(groups), xp.arange(n)] = 1
        self.s1 += onehot @ values
        values *= values
        self.s2 += onehot @ values
        self.count += np.bincount(np.asarray(groups), minlength=self.count.size)

    def moments(self) -> GroupMoments:
        """Count, mean and sum of squared deviations of everything added."""
        xp = self.xp
        present = xp.asarray((self.count > 0).astype(np.float64))[:, None]
        safe = xp.asarray(np.maximum(self.count, 1).astype(np.float64))[:, None]
        shifted_mean = self.s1 / safe
        reference = 0.0 if self.reference is None else self.reference.astype(xp.float64)[None, :]
        return GroupMoments(
            count=self.count.copy(),
            mean=(shifted_mean + reference) * present,
            m2=xp.maximum(self.s2 - self.s1 * shifted_mean, 0.0),
        )


def merge_all(*partials: GroupMoments) -> GroupMoments:
    """Merge any number of partials (in the order given; any order gives the same result)."""
    return reduce(GroupMoments.merge, partials)


def _module_of(array: Any) -> ModuleType:
    return importlib.import_module(type(array).__module__.split(".")[0])


def _host(array: Any) -> NDArray[np.float64]:
    return array if isinstance(array, np.ndarray) else array.get()
