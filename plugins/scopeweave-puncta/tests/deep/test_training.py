"""Training: a tiny model learns on the CPU; stages, freezing, schedule, resume, fine-tuning, logs."""

from __future__ import annotations

import csv
import math
import sys
from types import SimpleNamespace

import attrs
import numpy as np
import pytest
import tifffile
import torch
from scopeweave_puncta.deep.checkpoint import load_model
from scopeweave_puncta.deep.model import HybridUNet
from scopeweave_puncta.deep.params import LossParams, ModelConfig, ThunderstormSource, TrainingStage
from scopeweave_puncta.deep.trainer import Trainer, stage_learning_rate
from scopeweave_puncta.localization_io import write_thunderstorm_csv
from scopeweave_puncta.sim_params import SimulationParams
from scopeweave_puncta.simulate import simulate_sample
from scopeweave_puncta.table import LocalizationTable

from scopeweave.errors import ScopeweaveError


def _weights(path) -> dict[str, torch.Tensor]:
    return load_model(path).model.state_dict()


def test_a_tiny_model_learns_to_localize_easy_frames_on_the_cpu(tmp_path, make_params) -> None:
    """100 steps of a 1-channel model (base 4, depth 2; ~15 s on one core).

    Bar on easy frames (0.3-0.6 spots/µm², 2000-4000 photons, background 5-10): Jaccard >= 0.5,
    precision >= 0.9, RMSE <= 80 nm at the 250 nm tolerance; the untrained model finds nothing.
    """
    params = make_params(steps=100, in_channels=1, batch_size=8, validation_every_steps=25, validation_samples=24,
                         stages=(TrainingStage(steps=100, learning_rate=1e-2, warmup_steps=10),))
    result = Trainer(params, tmp_path).run()
    first, last = result.history[0], result.history[-1]
    assert last["train_loss"] < first["train_loss"] / 2
    assert last["val_loss"] < first["val_loss"]
    assert last["jaccard"] >= 0.5
    assert last["precision"] >= 0.9
    assert last["rmse_nm"] <= 80.0
    untrained = Trainer(make_params(steps=1, in_channels=1, stages=(TrainingStage(steps=1, learning_rate=1e-12),),
                                    validation_samples=24), tmp_path / "untrained").run()
    assert untrained.history[-1]["jaccard"] == 0.0


def test_metrics_csv_checkpoints_and_curves_are_written(tmp_path, make_params) -> None:
    result = Trainer(make_params(steps=4, validation_every_steps=2), tmp_path).run()
    with open(result.metrics_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["step"]) for r in rows] == [2, 4]
    for key in ("stage", "learning_rate", "train_loss", "val_loss", "jaccard", "rmse_nm", "efficiency",
                "calcium_f1", "calcium_specificity", "train_log_var_calcium"):
        assert key in rows[0]
    assert result.best_checkpoint.is_file()
    assert result.last_checkpoint.is_file()
    assert (tmp_path / "training_curves.png").stat().st_size > 1000
    assert load_model(result.last_checkpoint).data["step"] == 4


def test_cosine_schedule_with_warmup() -> None:
    stage = TrainingStage(steps=110, learning_rate=1e-3, warmup_steps=10)
    assert stage_learning_rate(stage, 0, 0.1) == pytest.approx(1e-4)
    assert stage_learning_rate(stage, 9, 0.1) == pytest.approx(1e-3)
    assert stage_learning_rate(stage, 10, 0.1) == pytest.approx(1e-3)
    assert stage_learning_rate(stage, 60, 0.1) == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5))
    assert stage_learning_rate(stage, 110, 0.1) == pytest.approx(1e-4)


def test_resumed_training_ends_where_an_uninterrupted_run_ends(tmp_path, make_params) -> None:
    params = make_params(steps=8, validation_every_steps=2)
    reference = Trainer(params, tmp_path / "whole").run()

    done = {"steps": 0}

    def interrupt(n: int) -> None:
        done["steps"] += n
        if done["steps"] == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Trainer(params, tmp_path / "part", on_step=interrupt).run()
    assert load_model(tmp_path / "part" / "checkpoints" / "last.pt").data["step"] == 4
    resumed = Trainer(attrs.evolve(params, resume=tmp_path / "part/checkpoints/last.pt"), tmp_path / "resumed").run()
    assert [row["step"] for row in resumed.history] == [2, 4, 6, 8]
    a, b = _weights(reference.last_checkpoint), _weights(resumed.last_checkpoint)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_resume_with_other_settings_is_refused(tmp_path, make_params) -> None:
    first = Trainer(make_params(steps=2, validation_every_steps=2), tmp_path / "a").run()
    other = make_params(steps=2, validation_every_steps=2, batch_size=2, resume=first.last_checkpoint)
    with pytest.raises(ScopeweaveError, match="settings differ.*batch_size"):
        Trainer(other, tmp_path / "b").run()


def test_frozen_encoder_keeps_its_weights_and_a_pretrained_encoder_is_used(tmp_path, make_params) -> None:
    donor = Trainer(make_params(steps=2, validation_every_steps=2, seed=5), tmp_path / "donor").run()
    params = make_params(steps=3, validation_every_steps=3, freeze_encoder=True,
                         pretrained_encoder=donor.last_checkpoint)
    result = Trainer(params, tmp_path / "frozen").run()
    before, after = _weights(donor.last_checkpoint), _weights(result.last_checkpoint)
    for key in before:
        if key.startswith("encoder."):
            torch.testing.assert_close(after[key], before[key], rtol=0, atol=0)
    torch.manual_seed(params.seed)
    init = HybridUNet(params.model).state_dict()
    changed = [k for k in init if k.startswith("localization.") and not torch.equal(init[k], after[k])]
    assert changed


def test_stages_train_only_their_parts_and_tasks(tmp_path, make_params) -> None:
    events: list[tuple[str, dict]] = []
    stages = (TrainingStage(name="loc", steps=2, tasks=("localization",), train=("localization",)),
              TrainingStage(name="ca", steps=2, tasks=("calcium",), train=("calcium",)))
    params = make_params(steps=4, stages=stages, validation_every_steps=10)
    torch.manual_seed(params.seed)
    init = HybridUNet(params.model).state_dict()
    result = Trainer(params, tmp_path, emit=lambda event, **f: events.append((event, f))).run()
    starts = [f for e, f in events if e == "stage_start"]
    assert [(s["stage"], s["trained"], s["tasks"]) for s in starts] == [
        ("loc", ["localization"], ["localization"]), ("ca", ["calcium"], ["calcium"])]
    after = _weights(result.last_checkpoint)
    for key in init:
        if key.startswith("encoder."):
            torch.testing.assert_close(after[key], init[key], rtol=0, atol=0)
    assert any(not torch.equal(init[k], after[k]) for k in init if k.startswith("calcium."))
    assert [row["stage"] for row in result.history] == ["loc", "ca"]  # a validation closes every stage


def test_fine_tuning_starts_from_the_checkpoint_weights(tmp_path, make_params) -> None:
    base = Trainer(make_params(steps=2, validation_every_steps=2, seed=9), tmp_path / "base").run()
    params = make_params(steps=2, validation_every_steps=2, init_checkpoint=base.last_checkpoint,
                         stages=(TrainingStage(steps=2, learning_rate=1e-12, warmup_steps=0),))
    tuned = Trainer(params, tmp_path / "tuned").run()
    a, b = _weights(base.last_checkpoint), _weights(tuned.last_checkpoint)
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=0, atol=1e-8)


def test_mixed_stage_draws_thunderstorm_windows(tmp_path, make_params) -> None:
    sample = simulate_sample(SimulationParams(frames_per_sample=6, image_size_px=(40, 40), num_puncta_mean=6,
                                              photons_mean=3000.0, seed=4), 0)
    tifffile.imwrite(tmp_path / "movie.tif", sample.movie)
    tifffile.imwrite(tmp_path / "calcium.tif", sample.calcium)
    t = sample.truth
    write_thunderstorm_csv(LocalizationTable(frame=t.frame, x_nm=t.x_nm, y_nm=t.y_nm, photons=t.photons,
                                             background=np.full(len(t), 10.0), sigma_nm=np.full(len(t), 130.0),
                                             uncertainty_nm=np.full(len(t), 5.0)), tmp_path / "ts.csv")
    source = ThunderstormSource(movie=tmp_path / "movie.tif", localizations=tmp_path / "ts.csv",
                                calcium_movie=tmp_path / "calcium.tif")
    stage = TrainingStage(steps=2, data="mixed", thunderstorm_fraction=0.5)
    params = make_params(steps=2, stages=(stage,), thunderstorm=(source,), validation_every_steps=2)
    trainer = Trainer(params, tmp_path / "run")
    synthetic, real = trainer._samplers()
    batch = trainer.batch_samples(0, stage, synthetic, real)
    assert [s.calcium is None for s in batch] == [True, True, False, False]
    assert math.isfinite(trainer.run().history[-1]["val_loss"])


def test_thunderstorm_stage_without_sources_is_a_parameter_error(make_params) -> None:
    with pytest.raises(ValueError, match="no 'thunderstorm' sources"):
        make_params(steps=2, stages=(TrainingStage(steps=2, data="thunderstorm"),))


def test_tensorboard_scalars_when_installed(tmp_path, make_params, monkeypatch) -> None:
    written: list[tuple[str, float, int]] = []

    class Writer:
        def __init__(self, log_dir: str) -> None:
            self.log_dir = log_dir

        def add_scalar(self, key: str, value: float, step: int) -> None:
            written.append((key, value, step))

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", SimpleNamespace(SummaryWriter=Writer))
    Trainer(make_params(steps=2, validation_every_steps=2, tensorboard=True), tmp_path).run()
    keys = {k for k, _, step in written if step == 2}
    assert {"val_loss", "jaccard", "train_loss", "learning_rate"} <= keys


def test_tensorboard_missing_is_reported_not_fatal(tmp_path, make_params, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import raises ImportError
    events: list[str] = []
    Trainer(make_params(steps=2, validation_every_steps=2, tensorboard=True), tmp_path,
            emit=lambda event, **f: events.append(event)).run()
    assert "tensorboard_unavailable" in events


def test_one_channel_config_refuses_a_calcium_only_stage(make_params) -> None:
    with pytest.raises(ValueError, match="no calcium decoder"):
        make_params(steps=2, in_channels=1, stages=(TrainingStage(steps=2, tasks=("calcium",)),))
    assert ModelConfig(in_channels=1).has_calcium is False


@pytest.mark.parametrize("loss", [
    LossParams(localization="weighted", calcium="bce"),
    LossParams(localization="gmm", calcium="focal", uncertainty_weighting=False),
])
def test_the_alternative_losses_train(tmp_path, make_params, loss) -> None:
    result = Trainer(make_params(steps=3, validation_every_steps=3, loss=loss), tmp_path).run()
    row = result.history[-1]
    assert math.isfinite(row["train_loss"])
    assert math.isfinite(row["val_loss"])
    assert ("train_log_var_calcium" in row) == loss.uncertainty_weighting
    assert ("train_uncertainty_nll" in row) == (loss.localization == "weighted")
