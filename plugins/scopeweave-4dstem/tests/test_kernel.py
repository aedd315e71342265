"""The folded one-product kernel equals the seed's formulas written out."""

from __future__ import annotations

import numpy as np
import pytest
from scopeweave_4dstem.kernel import MapKernel, com_columns, filter_weights, matched_filter_scores
from scopeweave_4dstem.preprocess import Preprocessor, central_keep_mask
from scopeweave_4dstem.templates import differential_templates


@pytest.mark.parametrize("log_transform", [False, True])
@pytest.mark.parametrize("background_subtract", [False, True])
@pytest.mark.parametrize("whiten", ["none", "diag"])
@pytest.mark.parametrize("dtype", [np.float32, np.uint16])
def test_matched_filter_scores_equal_the_explicit_z_score_correlation(
    log_transform: bool, background_subtract: bool, whiten: str, dtype: type
) -> None:
    rng = np.random.default_rng(2)
    n, shape = 40, (12, 12)
    frames = rng.gamma(2.0, 20.0, size=(n, *shape)).round().astype(dtype)
    keep = central_keep_mask(shape, (5.5, 5.5), 2.0).ravel()
    prep = Preprocessor(log_transform=log_transform, background_subtract=background_subtract, keep=keep)
    p = prep.apply(frames.reshape(n, -1)).astype(np.float64)
    mu, sigma = p.mean(axis=0), p.std(axis=0)
    labels = np.arange(n) % 3
    mu_c = np.stack([p[labels == c].mean(axis=0) for c in range(3)])
    eps = 1e-6
    t = differential_templates(mu_c, mu, sigma, keep=keep, whiten=whiten, epsilon=eps)
    # The seed: Z = (P - mu) / (sigma + eps) (or P - mu), S_c = sum_k T_c Z.
    z = (p - mu) / (sigma + eps) if whiten == "diag" else p - mu
    expected = z @ t.T

    weights = filter_weights(t, sigma, keep=keep, whiten=whiten, epsilon=eps)
    kernel = MapKernel(
        com_weights=com_columns(np.ones((1, *shape), np.float32), (5.5, 5.5)),
        filter_weights=weights.astype(np.float32),
        log_transform=log_transform,
    )
    responses = kernel.apply(frames)
    scores = matched_filter_scores(responses[:, 3:], weights, mu, background_subtract=background_subtract)
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-3 * np.abs(expected).max())
    # Templates are unit vectors with nothing inside the central mask.
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1.0)
    assert np.all(t[:, ~keep] == 0)


def test_com_columns_are_first_moments_about_the_centre() -> None:
    frame = np.zeros((1, 7, 9), np.float32)
    frame[0, 2, 7] = 4.0
    frame[0, 5, 1] = 1.0
    columns = com_columns(np.ones((1, 7, 9), np.float32), (3.0, 4.0))
    m0, my, mx = (frame.reshape(1, -1) @ columns)[0]
    assert m0 == 5.0
    assert my == 4.0 * (2 - 3) + 1.0 * (5 - 3)
    assert mx == 4.0 * (7 - 4) + 1.0 * (1 - 4)
