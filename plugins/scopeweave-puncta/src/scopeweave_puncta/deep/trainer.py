"""The training loop: stages, curriculum, cosine schedule, AMP, validation, checkpoints, resume.

One AdamW optimizer covers the network and the learned task weights; a
stage freezes the parts it does not train (their gradients are never
computed).  Within each stage the learning rate warms up linearly, then
follows a cosine from the stage's rate down to ``min_lr_fraction`` of it.
Every ``validation_every_steps`` steps (and at the end of each stage) the
model is scored on the fixed validation set; the row goes to
``metrics.csv`` (and TensorBoard when installed), ``checkpoints/last.pt`` is
written and ``checkpoints/best.pt`` when ``best_metric`` improved.  A run
resumed from its ``last.pt`` continues at the saved step with the same
optimizer state and the same sample stream, so it ends where an
uninterrupted run would.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch

from scopeweave.atomic import write_text_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave_puncta.deep.batches import collate
from scopeweave_puncta.deep.checkpoint import check_compatible, load_checkpoint, load_encoder, save_checkpoint
from scopeweave_puncta.deep.figures import plot_training_curves
from scopeweave_puncta.deep.inference import resolve_device
from scopeweave_puncta.deep.losses import HybridLoss
from scopeweave_puncta.deep.model import HybridUNet
from scopeweave_puncta.deep.params import TrainingStage, TrainParams
from scopeweave_puncta.deep.training_data import SyntheticSampler, ThunderstormSampler, TrainingSample
from scopeweave_puncta.deep.validation import ValidationSet

__all__ = ["RESUME_KEYS", "TrainResult", "Trainer", "plain", "stage_at", "stage_learning_rate"]

#: Settings a resumed run must share with the run it continues.
RESUME_KEYS: tuple[str, ...] = (
    "model", "simulation", "curriculum", "stages", "loss", "thunderstorm", "batch_size", "crop_px", "weight_decay",
    "grad_clip_norm", "min_lr_fraction", "freeze_encoder", "seed",
)
_MAX_BAD_STEPS = 20


def plain(value: Any) -> Any:
    """``value`` as JSON-like builtins (attrs classes to dicts, paths to strings, tuples to lists)."""
    if attrs.has(type(value)):
        return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def stage_at(stages: tuple[TrainingStage, ...], step: int) -> tuple[int, int]:
    """Index of the stage that global ``step`` falls in, and the step within that stage."""
    for index, stage in enumerate(stages):
        if step < stage.steps:
            return index, step
        step -= stage.steps
    raise ValueError("step is beyond the last stage.")


def stage_learning_rate(stage: TrainingStage, step_in_stage: int, min_fraction: float) -> float:
    """Linear warm-up, then cosine decay to ``min_fraction`` of the stage's rate."""
    if step_in_stage < stage.warmup_steps:
        return stage.learning_rate * (step_in_stage + 1) / stage.warmup_steps
    span = max(1, stage.steps - stage.warmup_steps)
    progress = min(1.0, (step_in_stage - stage.warmup_steps) / span)
    return stage.learning_rate * (min_fraction + (1.0 - min_fraction) * 0.5 * (1.0 + math.cos(math.pi * progress)))


@attrs.frozen(kw_only=True, eq=False)
class TrainResult:
    """Outcome of :meth:`Trainer.run`.

    Attributes
    ----------
    best_checkpoint, last_checkpoint
        ``checkpoints/best.pt`` and ``checkpoints/last.pt``.
    metrics_csv
        ``metrics.csv``: one row per validation.
    history
        The rows of ``metrics.csv``.
    best
        ``{"metric", "value", "step"}`` of the best validation.
    steps
        Global steps completed.
    elapsed_s
        Wall time of this run (not counting a resumed run's earlier time).
    """

    best_checkpoint: Path
    last_checkpoint: Path
    metrics_csv: Path
    history: list[dict[str, Any]]
    best: dict[str, Any]
    steps: int
    elapsed_s: float


class _TensorBoard:
    """TensorBoard scalars when ``tensorboard`` is installed; otherwise nothing."""

    def __init__(self, directory: Path, enabled: bool) -> None:
        self.writer: Any = None
        self.available = False
        if not enabled:
            return
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return
        self.available = True
        self.writer = SummaryWriter(log_dir=str(directory))

    def scalars(self, step: int, values: Mapping[str, Any]) -> None:
        if self.writer is None:
            return
        for key, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                self.writer.add_scalar(key, value, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _unbatched(samples: list[TrainingSample]) -> list[TrainingSample]:
    return samples


class _Batches(torch.utils.data.Dataset[list[TrainingSample]]):
    """Item ``k``: the samples of global step ``start + k`` (simulated in a worker when there are workers)."""

    def __init__(self, trainer: Trainer, synthetic: SyntheticSampler, real: ThunderstormSampler | None,
                 start: int) -> None:
        self.trainer = trainer
        self.synthetic = synthetic
        self.real = real
        self.start = start

    def __len__(self) -> int:
        return self.trainer.params.total_steps - self.start

    def __getitem__(self, k: int) -> list[TrainingSample]:
        step = self.start + k
        stage = self.trainer.params.stages[stage_at(self.trainer.params.stages, step)[0]]
        return self.trainer.batch_samples(step, stage, self.synthetic, self.real)


class Trainer:
    """Trains a hybrid U-Net as described by :class:`TrainParams`, writing into ``out_dir``."""

    def __init__(self, params: TrainParams, out_dir: Path, *,
                 emit: Callable[..., Any] | None = None, on_step: Callable[[int], None] | None = None) -> None:
        self.params = params
        self.out_dir = Path(out_dir)
        self.emit = emit or (lambda event, **fields: None)
        self.on_step = on_step or (lambda n: None)
        self.checkpoint_dir = self.out_dir / "checkpoints"
        self.best_path = self.checkpoint_dir / "best.pt"
        self.last_path = self.checkpoint_dir / "last.pt"
        self.metrics_path = self.out_dir / "metrics.csv"

    # -- set-up -------------------------------------------------------------------------------------------------------
    def _samplers(self) -> tuple[SyntheticSampler, ThunderstormSampler | None]:
        p = self.params
        synthetic = SyntheticSampler(simulation=p.simulation, curriculum=p.curriculum, model=p.model,
                                     crop_px=p.crop_px, seed=p.seed, label_photon_min=p.loss.label_photon_min)
        real = None
        if any(stage.data != "synthetic" for stage in p.stages):
            real = ThunderstormSampler(sources=p.thunderstorm, model=p.model, crop_px=p.crop_px, seed=p.seed,
                                       label_photon_min=p.loss.label_photon_min)
        return synthetic, real

    def _trained_for(self) -> dict[str, Any]:
        p = self.params
        return {
            "pixel_size_nm": p.simulation.pixel_size_nm,
            "frame_interval_ms": p.simulation.frame_interval_ms,
            "psf_type": p.simulation.psf_type,
            "psf_sigma_nm": [min(lv.psf_sigma_nm[0] for lv in p.curriculum), max(lv.psf_sigma_nm[1] for lv in p.curriculum)],
            "photons_mean": [min(lv.photons_mean[0] for lv in p.curriculum), max(lv.photons_mean[1] for lv in p.curriculum)],
            "background_photons": [min(lv.background_photons[0] for lv in p.curriculum),
                                   max(lv.background_photons[1] for lv in p.curriculum)],
            "density_per_um2": [min(lv.density_per_um2[0] for lv in p.curriculum),
                                max(lv.density_per_um2[1] for lv in p.curriculum)],
            "camera": plain(p.simulation.camera),
        }

    def _check_resume(self, data: Mapping[str, Any]) -> None:
        saved = data.get("training_params")
        if not isinstance(saved, dict):
            raise ScopeweaveError(f"{self.params.resume}: the checkpoint holds no training settings to resume from.")
        now = plain(self.params)
        differ = [key for key in RESUME_KEYS if saved.get(key) != now.get(key)]
        if differ:
            raise ScopeweaveError(
                f"{self.params.resume}: cannot resume: these settings differ from the interrupted run: "
                f"{', '.join(differ)}. Use init_checkpoint to fine-tune with new settings instead."
            )

    # -- batches ------------------------------------------------------------------------------------------------------
    def batch_samples(self, step: int, stage: TrainingStage, synthetic: SyntheticSampler,
                      real: ThunderstormSampler | None) -> list[TrainingSample]:
        """The samples of global ``step`` (real ones first in a ``mixed`` stage)."""
        size = self.params.batch_size
        n_real = {"synthetic": 0, "thunderstorm": size, "mixed": round(size * stage.thunderstorm_fraction)}[stage.data]
        level = synthetic.level_at(step)
        samples = []
        for i in range(size):
            index = step * size + i
            if i < n_real and real is not None:
                samples.append(real.sample(index))
            else:
                samples.append(synthetic.sample(level, index))
        return samples

    @staticmethod
    def _set_trainable(model: HybridUNet, parts: set[str]) -> list[str]:
        names = []
        for name, module in model.parts().items():
            flag = name in parts
            module.requires_grad_(flag)
            if flag:
                names.append(name)
        return names

    # -- output files -------------------------------------------------------------------------------------------------
    def _write_metrics(self, history: list[dict[str, Any]]) -> None:
        columns: list[str] = []
        for row in history:
            columns.extend(k for k in row if k not in columns)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in history:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
        write_text_atomic(self.metrics_path, buffer.getvalue())

    # -- the loop -----------------------------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        """Train through all stages (or the rest of them, when resuming) and return the outcome."""
        p = self.params
        t_start = time.perf_counter()
        if p.num_threads > 0:
            torch.set_num_threads(p.num_threads)
        torch.manual_seed(p.seed)
        device = resolve_device(p.device)
        use_amp = p.amp and device.type == "cuda"
        model = HybridUNet(p.model).to(device)
        loss_fn = HybridLoss(p.loss).to(device)
        synthetic, real = self._samplers()
        validation = ValidationSet(p, synthetic)
        if p.pretrained_encoder is not None:
            copied = load_encoder(model, p.pretrained_encoder)
            self.emit("pretrained_encoder", path=str(p.pretrained_encoder), tensors=copied)
        optimizer = torch.optim.AdamW([
            {"params": list(model.parameters()), "weight_decay": p.weight_decay},
            {"params": list(loss_fn.parameters()), "weight_decay": 0.0},
        ], lr=p.stages[0].learning_rate)
        scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
        start, history = 0, []
        best: dict[str, Any] = {"metric": p.best_metric, "value": None, "step": None}
        if p.init_checkpoint is not None:
            data = load_checkpoint(p.init_checkpoint)
            check_compatible(model, data, p.init_checkpoint)
            model.load_state_dict(data["model_state"])
            if isinstance(data.get("loss_state"), dict):
                loss_fn.load_state_dict(data["loss_state"])
            self.emit("init_checkpoint", path=str(p.init_checkpoint))
        if p.resume is not None:
            data = load_checkpoint(p.resume)
            check_compatible(model, data, p.resume)
            self._check_resume(data)
            model.load_state_dict(data["model_state"])
            loss_fn.load_state_dict(data["loss_state"])
            optimizer.load_state_dict(data["optimizer_state"])
            scaler.load_state_dict(data["scaler_state"])
            start, history, best = int(data["step"]), list(data["history"]), dict(data["best"])
            self.emit("resumed", path=str(p.resume), step=start)
            self.on_step(start)
        tensorboard = _TensorBoard(self.out_dir / "tensorboard", p.tensorboard)
        if p.tensorboard and not tensorboard.available:
            self.emit("tensorboard_unavailable", reason="the tensorboard package is not installed")
        extra = {"training_params": plain(p), "trained_for": self._trained_for()}
        running: dict[str, list[float]] = {}
        current_stage, bad_steps = -1, 0
        model.train()
        loader = torch.utils.data.DataLoader(_Batches(self, synthetic, real, start), batch_size=None, shuffle=False,
                                             num_workers=p.num_workers, collate_fn=_unbatched)
        for step, samples in zip(range(start, p.total_steps), loader, strict=True):
            index, in_stage = stage_at(p.stages, step)
            stage = p.stages[index]
            if index != current_stage:
                parts = set(stage.train) - ({"encoder"} if p.freeze_encoder else set())
                trained = self._set_trainable(model, parts)
                self.emit("stage_start", stage=stage.name, step=step, tasks=list(stage.tasks), trained=trained)
                current_stage = index
            lr = stage_learning_rate(stage, in_stage, p.min_lr_fraction)
            for group in optimizer.param_groups:
                group["lr"] = lr
            inputs, targets = collate(samples, p.model, device)
            with torch.autocast(device_type=device.type, enabled=use_amp):
                out = model(inputs)
            loss, parts_logged = loss_fn(out, targets, frozenset(stage.tasks))
            optimizer.zero_grad(set_to_none=True)
            if not torch.isfinite(loss):
                bad_steps += 1
                self.emit("non_finite_loss", step=step)
                if bad_steps >= _MAX_BAD_STEPS:
                    raise ScopeweaveError(f"training diverged: {bad_steps} steps in a row had a non-finite loss "
                                          f"(last at step {step}); lower the learning rate of stage {stage.name!r}.")
            else:
                bad_steps = 0
                scaler.scale(loss).backward()
                if p.grad_clip_norm > 0:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_([q for q in model.parameters() if q.requires_grad],
                                                   p.grad_clip_norm)
                scaler.step(optimizer)
                scaler.update()
                for key, value in parts_logged.items():
                    running.setdefault(key, []).append(value)
            done = step + 1
            stage_end = in_stage + 1 == stage.steps
            if done % p.validation_every_steps == 0 or stage_end:
                row: dict[str, Any] = {"step": done, "stage": stage.name, "learning_rate": lr,
                                       "train_loss": float(np.mean(running.get("total", [math.nan])))}
                row.update({f"train_{k}": float(np.mean(v)) for k, v in running.items() if k != "total"})
                row.update(validation.evaluate(model, loss_fn, device))
                row["elapsed_s"] = time.perf_counter() - t_start
                running = {}
                history.append(row)
                value = row["val_loss"] if p.best_metric == "loss" else row[p.best_metric]
                previous = best["value"]
                better = previous is None or (math.isfinite(value) and (not math.isfinite(previous) or (
                    value < previous if p.best_metric == "loss" else value > previous)))
                if better:
                    best = {"metric": p.best_metric, "value": float(value), "step": done}
                self._write_metrics(history)
                tensorboard.scalars(done, row)
                state = self._state(extra, loss_fn, optimizer, scaler, done, stage, history, best)
                if better:
                    save_checkpoint(self.best_path, model, **state)
                save_checkpoint(self.last_path, model, **state)
                self.emit("validation", **{k: v for k, v in row.items() if k != "stage"}, best=better)
            elif done % p.checkpoint_every_steps == 0:
                save_checkpoint(self.last_path, model,
                                **self._state(extra, loss_fn, optimizer, scaler, done, stage, history, best))
            self.on_step(1)
        tensorboard.close()
        if history:
            plot_training_curves(self.out_dir / "training_curves.png", history)
        return TrainResult(best_checkpoint=self.best_path, last_checkpoint=self.last_path,
                           metrics_csv=self.metrics_path, history=history, best=best, steps=p.total_steps,
                           elapsed_s=time.perf_counter() - t_start)

    @staticmethod
    def _state(extra: dict[str, Any], loss_fn: HybridLoss, optimizer: torch.optim.Optimizer,
               scaler: torch.amp.GradScaler, step: int, stage: TrainingStage, history: list[dict[str, Any]],
               best: dict[str, Any]) -> dict[str, Any]:
        return {
            **extra,
            "loss_state": {k: v.detach().cpu() for k, v in loss_fn.state_dict().items()},
            "optimizer_state": optimizer.state_dict(),
            "scaler_state": scaler.state_dict(),
            "step": step,
            "stage": stage.name,
            "history": [dict(row) for row in history],
            "best": dict(best),
        }
