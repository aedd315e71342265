"""Loss terms against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from scopeweave_puncta.deep.losses import (
    HybridLoss,
    LossTargets,
    TaskWeighting,
    calcium_loss,
    gmm_localization_loss,
    weighted_localization_loss,
)
from scopeweave_puncta.deep.model import HybridOutput
from scopeweave_puncta.deep.params import LossParams

H = W = 8


def _output(prob: torch.Tensor, *, offset=(0.0, 0.0), photons=0.1, sigma=(0.2, 0.2, 0.05)) -> HybridOutput:
    p = prob.clamp(1e-7, 1 - 1e-7)
    batch = p.shape[0]
    return HybridOutput(
        detection_logit=torch.log(p / (1 - p))[:, None],
        offset_px=torch.tensor(offset).view(1, 2, 1, 1).expand(batch, 2, H, W).clone(),
        photons=torch.full((batch, 1, H, W), photons),
        sigma=torch.tensor(sigma).view(1, 3, 1, 1).expand(batch, 3, H, W).clone(),
        background=torch.full((batch, 1, H, W), 0.05),
        calcium_logit=torch.zeros(batch, 1, H, W),
    )


def _targets(positions, photons) -> LossTargets:
    m = len(positions)
    return LossTargets(
        positions_px=torch.tensor([positions], dtype=torch.float32).view(1, m, 2),
        photons=torch.tensor([photons], dtype=torch.float32).view(1, m),
        mask=torch.ones(1, m, dtype=torch.bool),
        background=torch.full((1, 1, H, W), 0.05), background_mask=torch.ones(1, dtype=torch.bool),
        calcium=torch.zeros(1, 1, H, W), calcium_mask=torch.ones(1, dtype=torch.bool),
    )


def test_count_term_is_the_gaussian_poisson_binomial_nll() -> None:
    q = 0.02
    out = _output(torch.full((1, H, W), q))
    count, _ = gmm_localization_loss(out, _targets([(3.0, 4.0), (5.0, 1.0)], [0.1, 0.1]))
    mean, var = H * W * q, H * W * q * (1 - q)
    expected = 0.5 * (math.log(var) + math.log(2 * math.pi)) + (2 - mean) ** 2 / (2 * var)
    assert float(count[0]) == pytest.approx(expected, rel=1e-4)


def test_mixture_term_with_one_confident_pixel_is_a_gaussian_nll() -> None:
    prob = torch.zeros(1, H, W)
    prob[0, 4, 3] = 1.0  # y = 4, x = 3
    sx, sy, sn = 0.2, 0.3, 0.05
    out = _output(prob, offset=(0.1, -0.2), photons=0.1, sigma=(sx, sy, sn))
    true_x, true_y, true_n = 3.25, 3.7, 0.12
    _, mixture = gmm_localization_loss(out, _targets([(true_x, true_y)], [true_n]))
    zx, zy, zn = (true_x - 3.1) / sx, (true_y - 3.8) / sy, (true_n - 0.1) / sn
    expected = 0.5 * (zx**2 + zy**2 + zn**2) + math.log(sx * sy * sn) + 1.5 * math.log(2 * math.pi)
    assert float(mixture[0]) == pytest.approx(expected, rel=1e-3)


def test_mixture_term_prefers_the_right_offsets() -> None:
    prob = torch.zeros(1, H, W)
    prob[0, 2, 2] = prob[0, 5, 6] = 0.99
    targets = _targets([(2.3, 2.0), (6.3, 5.0)], [0.1, 0.1])
    right = gmm_localization_loss(_output(prob, offset=(0.3, 0.0)), targets)[1]
    wrong = gmm_localization_loss(_output(prob, offset=(-0.3, 0.0)), targets)[1]
    # Each emitter is 0.6 px = 3 sigma off: 0.5 * 3**2 more per emitter.
    assert float(wrong[0]) - float(right[0]) == pytest.approx(2 * 0.5 * 3.0**2, rel=1e-3)


def test_weighted_regression_vanishes_for_perfect_offsets_and_grows_with_error() -> None:
    prob = torch.full((1, H, W), 0.01)
    targets = _targets([(2.3, 4.0)], [0.1])
    params = LossParams(localization="weighted", detection_weight=0.0)
    perfect, _ = weighted_localization_loss(_output(prob, offset=(0.3, 0.0), photons=0.1), targets, params)
    shifted, _ = weighted_localization_loss(_output(prob, offset=(0.0, 0.0), photons=0.1), targets, params)
    assert float(perfect[0]) == pytest.approx(0.0, abs=1e-10)
    assert float(shifted[0]) == pytest.approx(0.3**2, rel=1e-4)


def test_focal_loss_reduces_to_half_bce_and_bce_uses_the_positive_weight() -> None:
    logit = torch.tensor([[[[2.0, -1.0], [0.5, -3.0]]]])
    label = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    q = torch.sigmoid(logit)
    bce = -(label * torch.log(q) + (1 - label) * torch.log(1 - q))
    focal = calcium_loss(logit, label, LossParams(calcium="focal", focal_gamma=0.0, focal_alpha=0.5))
    assert float(focal[0]) == pytest.approx(float(0.5 * bce.mean()), rel=1e-5)
    weighted = calcium_loss(logit, label, LossParams(calcium="bce", calcium_pos_weight=3.0))
    manual = -(3.0 * label * torch.log(q) + (1 - label) * torch.log(1 - q))
    assert float(weighted[0]) == pytest.approx(float(manual.mean()), rel=1e-5)


def test_kendall_weighting_formula_clamp_and_gradient() -> None:
    weighting = TaskWeighting(clamp=2.0)
    with torch.no_grad():
        weighting.log_variance[:] = torch.tensor([0.5, 100.0, -100.0])
    loss = torch.tensor(3.0)
    assert float(weighting("localization", loss).detach()) == pytest.approx(0.5 * (math.exp(-0.5) * 3.0 + 0.5))
    assert float(weighting("background", loss).detach()) == pytest.approx(0.5 * (math.exp(-2.0) * 3.0 + 2.0))
    assert weighting.weights()["calcium"] == pytest.approx(0.5 * math.exp(2.0))
    weighting.zero_grad()
    weighting("localization", loss).backward()
    grad = weighting.log_variance.grad
    assert grad is not None
    assert float(grad[0]) == pytest.approx(0.5 * (1 - math.exp(-0.5) * 3.0), rel=1e-5)
    # Past the clamp the weight no longer moves.
    assert float(grad[1]) == 0.0


def test_hybrid_loss_uses_only_the_stage_tasks() -> None:
    prob = torch.full((1, H, W), 0.05)
    out = _output(prob)
    targets = _targets([(3.0, 3.0)], [0.1])
    loss = HybridLoss(LossParams(uncertainty_weighting=False))
    _, only_loc = loss(out, targets, frozenset({"localization"}))
    _, both = loss(out, targets, frozenset({"localization", "calcium"}))
    assert "calcium" not in only_loc
    assert both["calcium"] > 0
    assert both["total"] == pytest.approx(only_loc["total"] + both["calcium"], rel=1e-5)
