"""Losses of the hybrid model: localization, background, calcium, and Kendall task weighting.

Localization, ``gmm`` (after DECODE, Speiser et al. 2021; written from the paper's description)
    With ``p_k`` the detection probability of pixel ``k`` and ``n`` the true
    number of emitters in the frame, a count term
    ``-log N(n | sum p_k, sum p_k (1 - p_k))`` (a Gaussian approximation of the
    Poisson-binomial count), plus for every true emitter ``g`` the negative
    log-likelihood of its position and photons under the mixture
    ``sum_k (p_k / sum p) N(theta_g | mu_k, diag sigma_k^2)`` over all pixels,
    with ``mu_k`` = pixel centre + predicted offset, predicted photons.  The
    predicted ``sigma_k`` are thereby learned uncertainties.
Localization, ``weighted`` (the seed's weighted terms)
    Binary cross-entropy (emitter pixels weighted by ``detection_pos_weight``)
    of the detection logit against a map that is 1 at the pixel nearest each
    emitter, plus mean squared offset and photon errors at those pixels; the
    uncertainty heads learn from a Gaussian negative log-likelihood of the
    (detached) offset and photon residuals.
Background
    Mean squared error of the background map (fractions of ``background_max``).
Calcium
    Binary cross-entropy with a positive-class weight, or the focal loss
    ``-alpha y (1-q)^gamma log q - (1-alpha)(1-y) q^gamma log(1-q)`` (Lin et al. 2017).
Task weighting (Kendall, Gal & Cipolla, CVPR 2018)
    Each non-negative task loss ``L_i`` enters as ``0.5 (exp(-s_i) L_i + s_i)``
    with a learned ``s_i = log sigma_i^2`` clamped to ``[-c, c]``.  A
    likelihood loss that can be negative (the ``gmm`` term, the uncertainty
    NLL) is not reweighted: its own learned sigmas already set its scale, and
    a learned weight on a negative loss would run to the clamp.
"""

from __future__ import annotations

import math

import attrs
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - the PyTorch convention

from scopeweave_puncta.deep.model import HybridOutput
from scopeweave_puncta.deep.params import LossParams

__all__ = [
    "HybridLoss",
    "LossTargets",
    "TaskWeighting",
    "calcium_loss",
    "gmm_localization_loss",
    "weighted_localization_loss",
]

_LOG_2PI = math.log(2.0 * math.pi)
_EPS = 1e-6


@attrs.frozen(kw_only=True, eq=False)
class LossTargets:
    """Training targets of a batch (torch tensors on the model's device).

    Attributes
    ----------
    positions_px
        ``(batch, m, 2)`` true x, y of the centre frame's emitters, pixel-centre coordinates.
    photons
        ``(batch, m)`` true photons as a fraction of ``photon_max``.
    mask
        ``(batch, m)`` which rows are real emitters (the rest is padding).
    background
        ``(batch, 1, y, x)`` true background as a fraction of ``background_max``.
    background_mask
        ``(batch,)`` samples whose background is known.
    calcium
        ``(batch, 1, y, x)`` calcium-signal label (0 or 1).
    calcium_mask
        ``(batch,)`` samples whose calcium label is known.
    """

    positions_px: torch.Tensor
    photons: torch.Tensor
    mask: torch.Tensor
    background: torch.Tensor
    background_mask: torch.Tensor
    calcium: torch.Tensor
    calcium_mask: torch.Tensor


def _pixel_means(out: HybridOutput) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Predicted x, y (pixel-centre coordinates) and photons of every pixel, ``(batch, k)`` each."""
    _, _, height, width = out.offset_px.shape
    device = out.offset_px.device
    gy, gx = torch.meshgrid(torch.arange(height, device=device, dtype=torch.float32),
                            torch.arange(width, device=device, dtype=torch.float32), indexing="ij")
    mu_x = (gx + out.offset_px[:, 0].float()).flatten(1)
    mu_y = (gy + out.offset_px[:, 1].float()).flatten(1)
    return mu_x, mu_y, out.photons[:, 0].float().flatten(1)


def gmm_localization_loss(out: HybridOutput, targets: LossTargets) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample count NLL and summed mixture NLL of the true emitters, ``(batch,)`` each."""
    p = out.probability[:, 0].float().flatten(1)
    mask = targets.mask.float()
    n_true = mask.sum(1)
    mean = p.sum(1)
    variance = (p * (1.0 - p)).sum(1) + _EPS
    count_nll = 0.5 * (torch.log(variance) + _LOG_2PI) + (n_true - mean) ** 2 / (2.0 * variance)
    if targets.mask.shape[1] == 0:
        return count_nll, torch.zeros_like(count_nll)
    mu_x, mu_y, mu_n = _pixel_means(out)
    sigma = out.sigma.float().flatten(2)
    log_weight = torch.log(p + 1e-12) - torch.log(mean + 1e-12)[:, None]
    zx = (targets.positions_px[:, :, 0:1] - mu_x[:, None, :]) / sigma[:, None, 0, :]
    zy = (targets.positions_px[:, :, 1:2] - mu_y[:, None, :]) / sigma[:, None, 1, :]
    zn = (targets.photons[:, :, None] - mu_n[:, None, :]) / sigma[:, None, 2, :]
    log_norm = torch.log(sigma).sum(1) + 1.5 * _LOG_2PI
    log_component = -0.5 * (zx**2 + zy**2 + zn**2) - log_norm[:, None, :]
    log_mixture = torch.logsumexp(log_weight[:, None, :] + log_component, dim=2)
    return count_nll, -(log_mixture * mask).sum(1)


def _nearest_pixel_targets(out: HybridOutput, targets: LossTargets
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Detection map ``(batch, y, x)`` and, per emitter, its pixel index and offset/photon targets."""
    batch, _, height, width = out.offset_px.shape
    pos = targets.positions_px
    col = torch.round(pos[..., 0]).clamp(0, width - 1).long()
    row = torch.round(pos[..., 1]).clamp(0, height - 1).long()
    flat = row * width + col
    valid = targets.mask
    detection = torch.zeros(batch, height * width, device=pos.device)
    detection.scatter_(1, torch.where(valid, flat, torch.zeros_like(flat)), valid.float())
    offsets = torch.stack([pos[..., 0] - col, pos[..., 1] - row], dim=-1)
    return detection.view(batch, height, width), flat, offsets, targets.photons, valid


def weighted_localization_loss(out: HybridOutput, targets: LossTargets, params: LossParams
                               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted BCE + offset/photon MSE (non-negative) and the uncertainty NLL, ``(batch,)`` each."""
    detection, flat, offsets, photons, valid = _nearest_pixel_targets(out, targets)
    pos_weight = torch.tensor(params.detection_pos_weight, device=detection.device)
    bce = F.binary_cross_entropy_with_logits(out.detection_logit[:, 0].float(), detection, pos_weight=pos_weight,
                                             reduction="none").mean((1, 2))
    batch = flat.shape[0]
    pred_offset = out.offset_px.float().flatten(2).gather(2, flat[:, None, :].expand(batch, 2, -1)).transpose(1, 2)
    pred_photons = out.photons.float().flatten(2).gather(2, flat[:, None, :])[:, 0]
    sigma = out.sigma.float().flatten(2).gather(2, flat[:, None, :].expand(batch, 3, -1)).transpose(1, 2)
    weight = valid.float()
    n = weight.sum(1).clamp(min=1.0)
    offset_err = ((pred_offset - offsets) ** 2).sum(-1)
    photon_err = (pred_photons - photons) ** 2
    regression = (params.offset_weight * offset_err + params.photon_weight * photon_err) * weight
    error_loss = params.detection_weight * bce + regression.sum(1) / n
    residual = torch.cat([(pred_offset - offsets), (pred_photons - photons)[..., None]], dim=-1).detach()
    nll = 0.5 * (residual / sigma) ** 2 + torch.log(sigma)
    return error_loss, (nll.sum(-1) * weight).sum(1) / n


def calcium_loss(logit: torch.Tensor, label: torch.Tensor, params: LossParams) -> torch.Tensor:
    """Per-sample calcium loss ``(batch,)``: BCE with positive weight, or the focal loss."""
    logit = logit.float()
    if params.calcium == "bce":
        pos_weight = torch.tensor(params.calcium_pos_weight, device=logit.device)
        pixel = F.binary_cross_entropy_with_logits(logit, label, pos_weight=pos_weight, reduction="none")
    else:
        q = torch.sigmoid(logit)
        log_q = F.logsigmoid(logit)
        log_not_q = F.logsigmoid(-logit)
        pixel = -(params.focal_alpha * label * (1.0 - q) ** params.focal_gamma * log_q
                  + (1.0 - params.focal_alpha) * (1.0 - label) * q**params.focal_gamma * log_not_q)
    return pixel.flatten(1).mean(1)


def _scalar(value: torch.Tensor) -> float:
    return float(value.detach())


class TaskWeighting(nn.Module):
    """Learned homoscedastic task weights ``0.5 (exp(-s) L + s)``, ``s`` clamped to ``[-c, c]``."""

    TASKS: tuple[str, ...] = ("localization", "background", "calcium")

    def __init__(self, clamp: float) -> None:
        super().__init__()
        self.clamp = clamp
        self.log_variance = nn.Parameter(torch.zeros(len(self.TASKS)))

    def clamped(self) -> torch.Tensor:
        """The ``s`` actually used."""
        return self.log_variance.clamp(-self.clamp, self.clamp)

    def forward(self, task: str, loss: torch.Tensor) -> torch.Tensor:
        s = self.clamped()[self.TASKS.index(task)]
        return 0.5 * (torch.exp(-s) * loss + s)

    def weights(self) -> dict[str, float]:
        """Effective weight ``0.5 exp(-s)`` of each task."""
        s = self.clamped().detach().cpu()
        return {task: float(0.5 * torch.exp(-s[i])) for i, task in enumerate(self.TASKS)}


class HybridLoss(nn.Module):
    """The full training loss; holds the learned task weights (saved with the checkpoints)."""

    def __init__(self, params: LossParams) -> None:
        super().__init__()
        self.params = params
        self.weighting = TaskWeighting(params.log_variance_clamp)

    def _weighted(self, task: str, loss: torch.Tensor) -> torch.Tensor:
        return self.weighting(task, loss) if self.params.uncertainty_weighting else loss

    def forward(self, out: HybridOutput, targets: LossTargets, tasks: frozenset[str]
                ) -> tuple[torch.Tensor, dict[str, float]]:
        """Total loss over ``tasks`` (``localization``, ``calcium``) and its parts for logging."""
        p = self.params
        zero = out.detection_logit.new_zeros(())
        total = zero
        parts: dict[str, float] = {}
        if "localization" in tasks:
            if p.localization == "gmm":
                count, mixture = gmm_localization_loss(out, targets)
                loc = (count + mixture).mean()
                total = total + loc
                parts.update(count=_scalar(count.mean()), mixture=_scalar(mixture.mean()))
            else:
                error, nll = weighted_localization_loss(out, targets, p)
                loc = error.mean()
                total = total + self._weighted("localization", loc) + nll.mean()
                parts.update(uncertainty_nll=_scalar(nll.mean()))
            parts["localization"] = _scalar(loc)
            bg_mask = targets.background_mask.float()
            if p.background_weight > 0 and float(bg_mask.sum()) > 0:
                per_sample = ((out.background.float() - targets.background) ** 2).flatten(1).mean(1)
                background = p.background_weight * (per_sample * bg_mask).sum() / bg_mask.sum()
                total = total + self._weighted("background", background)
                parts["background"] = _scalar(background)
        if "calcium" in tasks and out.calcium_logit is not None:
            ca_mask = targets.calcium_mask.float()
            if float(ca_mask.sum()) > 0:
                per_sample = calcium_loss(out.calcium_logit, targets.calcium, p)
                calcium = p.calcium_weight * (per_sample * ca_mask).sum() / ca_mask.sum()
                total = total + self._weighted("calcium", calcium)
                parts["calcium"] = _scalar(calcium)
        if p.uncertainty_weighting:
            parts.update({f"log_var_{k}": _scalar(v) for k, v in zip(TaskWeighting.TASKS, self.weighting.clamped(),
                                                                      strict=True)})
        parts["total"] = _scalar(total)
        return total, parts
