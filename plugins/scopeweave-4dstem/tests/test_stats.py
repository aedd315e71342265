"""Partial sums merge in any order and give the plain NumPy statistics."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scopeweave_4dstem.stats import GroupMoments, GroupSums, merge_all


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    cuts=st.lists(st.integers(1, 59), min_size=1, max_size=6, unique=True),
    order_seed=st.integers(0, 1000),
)
def test_any_split_and_any_merge_order_give_the_same_moments(seed: int, cuts: list[int], order_seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(1000.0, 3.0, size=(60, 5))  # large mean, small spread: cancellation-prone
    groups = rng.integers(0, 4, 60)
    pieces = np.split(np.arange(60), sorted(cuts))
    partials = [GroupMoments.of_block(values[idx], groups[idx], 4) for idx in pieces if len(idx)]
    order = np.random.default_rng(order_seed).permutation(len(partials))
    merged = merge_all(*[partials[i] for i in order])
    for g in range(4):
        members = values[groups == g]
        assert merged.count[g] == len(members)
        if len(members):
            np.testing.assert_allclose(merged.mean[g], members.mean(axis=0), rtol=1e-12)
            np.testing.assert_allclose(merged.m2[g], ((members - members.mean(axis=0)) ** 2).sum(axis=0), rtol=1e-7)
    count, mean, m2 = merged.pooled(range(4))
    assert count == 60
    np.testing.assert_allclose(mean, values.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(m2 / count), values.std(axis=0), rtol=1e-7)


def test_merging_with_an_empty_partial_changes_nothing() -> None:
    values = np.arange(12.0).reshape(4, 3)
    block = GroupMoments.of_block(values, np.array([0, 0, 1, 1]), 2)
    merged = block.merge(GroupMoments.empty(2, 3))
    np.testing.assert_array_equal(merged.count, block.count)
    np.testing.assert_allclose(merged.mean, block.mean)
    np.testing.assert_allclose(merged.m2, block.m2)


def test_float32_blocks_keep_the_moments_accurate() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(6.0, 0.2, size=(300, 50))  # log-scale intensities: large mean, small spread
    groups = rng.integers(0, 3, 300)
    partials = [GroupMoments.of_block(values[i : i + 64].astype(np.float32), groups[i : i + 64], 3)
                for i in range(0, 300, 64)]
    merged = merge_all(*partials)
    for g in range(3):
        members = values[groups == g]
        np.testing.assert_allclose(merged.mean[g], members.mean(axis=0), rtol=1e-6)
        np.testing.assert_allclose(merged.m2[g] / len(members), members.var(axis=0), rtol=1e-4)


def test_sums_over_many_float32_tiles_give_the_numpy_moments() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(6.0, 0.2, size=(1000, 40))
    values[:, 0] = 1e4 + rng.normal(0.0, 1.0, 1000)  # a bright pixel: float32 sums over 1000 patterns would cancel
    groups = rng.integers(0, 3, 1000)
    groups[groups == 2] = 1  # group 2 stays empty
    sums = GroupSums(3, 40)
    for start in range(0, 1000, 64):
        tile = values[start : start + 64].astype(np.float32)
        sums.add(tile, groups[start : start + 64])
    moments = sums.moments()
    np.testing.assert_array_equal(moments.count, [np.sum(groups == 0), np.sum(groups == 1), 0])
    for g in range(2):
        members = values[groups == g].astype(np.float32).astype(np.float64)
        np.testing.assert_allclose(moments.mean[g], members.mean(axis=0), rtol=1e-7)
        np.testing.assert_allclose(moments.m2[g] / len(members), members.var(axis=0), rtol=1e-4)
    np.testing.assert_array_equal(moments.mean[2], 0.0)
    np.testing.assert_array_equal(moments.m2[2], 0.0)
