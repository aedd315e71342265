"""A fixed validation set and the metrics computed on it during training.

The set is ``validation_samples`` simulated windows (their own seed stream,
never used for training) of ``validation_image_px`` frames from one
curriculum level.  Each validation reports the loss over all tasks, the
SMLM-challenge detection metrics of the centre-frame localizations against
the truth (:func:`scopeweave_puncta.evaluate.evaluate_localizations`; every
window counts as one frame) and pixel-level calcium scores (sensitivity,
specificity, F1, IoU of the calcium map thresholded at 0.5).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from scopeweave_puncta.deep.batches import collate
from scopeweave_puncta.deep.inference import physical_maps
from scopeweave_puncta.deep.losses import HybridLoss
from scopeweave_puncta.deep.model import HybridUNet
from scopeweave_puncta.deep.params import PredictionParams, TrainParams
from scopeweave_puncta.deep.postprocess import localizations_from_maps
from scopeweave_puncta.deep.training_data import STREAM_VALIDATION, SyntheticSampler, TrainingSample
from scopeweave_puncta.evaluate import evaluate_localizations
from scopeweave_puncta.ground_truth import GroundTruth
from scopeweave_puncta.table import LocalizationTable, px_to_nm

__all__ = ["ValidationSet"]


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else math.nan


class ValidationSet:
    """Validation windows and their truth; :meth:`evaluate` scores a model on them."""

    def __init__(self, params: TrainParams, sampler: SyntheticSampler) -> None:
        level = params.curriculum[params.validation_level]
        self.params = params
        self.pixel_size_nm = params.simulation.pixel_size_nm
        self.samples: list[TrainingSample] = [
            sampler.sample(level, i, stream=STREAM_VALIDATION, size_px=params.validation_image_px)
            for i in range(params.validation_samples)
        ]
        frame = np.concatenate([np.full(len(s.photons), i) for i, s in enumerate(self.samples)])
        positions = np.concatenate([s.positions_px for s in self.samples]) if len(frame) else np.zeros((0, 2))
        self.truth = GroundTruth(
            frame=frame, x_nm=px_to_nm(positions[:, 0], self.pixel_size_nm),
            y_nm=px_to_nm(positions[:, 1], self.pixel_size_nm),
            photons=np.concatenate([s.photons for s in self.samples]), id=np.arange(len(frame)),
        )

    @torch.no_grad()
    def evaluate(self, model: HybridUNet, loss_fn: HybridLoss, device: torch.device,
                 prediction: PredictionParams | None = None) -> dict[str, float]:
        """Loss, detection and calcium metrics of ``model`` (left in train mode afterwards)."""
        pp = prediction or PredictionParams()
        model.eval()
        tasks = frozenset({"localization", "calcium"})
        losses: list[float] = []
        tables: list[LocalizationTable] = []
        counts = np.zeros(4)  # tp, fp, fn, tn of the calcium pixels
        batch = self.params.batch_size
        for start in range(0, len(self.samples), batch):
            chunk = self.samples[start : start + batch]
            inputs, targets = collate(chunk, model.config, device)
            out = model(inputs)
            loss, _ = loss_fn(out, targets, tasks)
            losses.append(float(loss) * len(chunk))
            maps = physical_maps(out, model.config)
            tables.append(localizations_from_maps(
                maps, np.arange(start, start + len(chunk)), pixel_size_nm=self.pixel_size_nm,
                raw_threshold=pp.raw_threshold, detection_threshold=pp.detection_threshold,
                split_threshold=pp.split_threshold))
            if maps.calcium is not None:
                predicted = (maps.calcium > 0.5).cpu().numpy()
                label = targets.calcium[:, 0].cpu().numpy() > 0.5
                known = targets.calcium_mask.cpu().numpy()
                p, t = predicted[known], label[known]
                counts += [np.sum(p & t), np.sum(p & ~t), np.sum(~p & t), np.sum(~p & ~t)]
        model.train()
        overall = evaluate_localizations(LocalizationTable.concat(tables), self.truth, n_frames=len(self.samples)).overall
        tp, fp, fn, tn = counts
        return {
            "val_loss": float(sum(losses) / len(self.samples)),
            "precision": overall.precision, "recall": overall.recall, "jaccard": overall.jaccard,
            "rmse_nm": overall.rmse_lateral_nm, "efficiency": overall.efficiency,
            "calcium_f1": _ratio(2 * tp, 2 * tp + fp + fn), "calcium_sensitivity": _ratio(tp, tp + fn),
            "calcium_specificity": _ratio(tn, tn + fp), "calcium_iou": _ratio(tp, tp + fp + fn),
        }
