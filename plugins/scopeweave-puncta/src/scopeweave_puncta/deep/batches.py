"""Collating training samples into batched tensors and loss targets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from scopeweave_puncta.deep.losses import LossTargets
from scopeweave_puncta.deep.params import ModelConfig
from scopeweave_puncta.deep.training_data import TrainingSample

__all__ = ["collate"]


def collate(samples: Sequence[TrainingSample], config: ModelConfig, device: torch.device
            ) -> tuple[torch.Tensor, LossTargets]:
    """Stack ``samples`` into the network input and normalised targets on ``device``."""
    if not samples:
        raise ValueError("cannot collate an empty batch.")
    batch = len(samples)
    height, width = samples[0].inputs.shape[-2:]
    inputs = torch.from_numpy(np.stack([s.inputs for s in samples]))
    m = max(1, max(len(s.photons) for s in samples))
    positions = np.zeros((batch, m, 2), dtype=np.float32)
    photons = np.zeros((batch, m), dtype=np.float32)
    mask = np.zeros((batch, m), dtype=bool)
    background = np.zeros((batch, 1, height, width), dtype=np.float32)
    background_mask = np.zeros(batch, dtype=bool)
    calcium = np.zeros((batch, 1, height, width), dtype=np.float32)
    calcium_mask = np.zeros(batch, dtype=bool)
    for i, s in enumerate(samples):
        n = len(s.photons)
        positions[i, :n] = s.positions_px
        photons[i, :n] = s.photons / config.photon_max
        mask[i, :n] = True
        if s.background is not None:
            background[i, 0] = s.background / config.background_max
            background_mask[i] = True
        if s.calcium is not None:
            calcium[i, 0] = s.calcium
            calcium_mask[i] = True
    targets = LossTargets(
        positions_px=torch.from_numpy(positions).to(device), photons=torch.from_numpy(photons).to(device),
        mask=torch.from_numpy(mask).to(device), background=torch.from_numpy(background).to(device),
        background_mask=torch.from_numpy(background_mask).to(device), calcium=torch.from_numpy(calcium).to(device),
        calcium_mask=torch.from_numpy(calcium_mask).to(device),
    )
    return inputs.to(device), targets
