"""Weight matrices widened for BLAS keep their columns and add only zeros."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scopeweave_4dstem.gemm import padded


@pytest.mark.parametrize("n_columns", [1, 3, 4, 9, 13])
def test_padding_keeps_the_columns_and_appends_zeros(n_columns: int) -> None:
    weights = np.random.default_rng(n_columns).normal(size=(1024, n_columns))
    wide = padded(weights)
    assert wide.dtype == np.float32
    assert wide.flags.c_contiguous
    assert wide.shape[1] in {n_columns, 4 * math.ceil(n_columns / 4), 8 * math.ceil(n_columns / 8)}
    np.testing.assert_array_equal(wide[:, :n_columns], weights.astype(np.float32))
    np.testing.assert_array_equal(wide[:, n_columns:], 0.0)
    patterns = np.random.default_rng(0).random((50, 1024), dtype=np.float32)
    np.testing.assert_allclose((patterns @ wide)[:, :n_columns], patterns @ weights.astype(np.float32), rtol=1e-5)
