"""Fixtures of the deep-model tests: registrations, tiny models and a tiny trained checkpoint (CPU only)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from scopeweave_puncta.deep import registrations  # noqa: E402
from scopeweave_puncta.deep.params import (  # noqa: E402
    LossParams,
    ModelConfig,
    SyntheticLevel,
    TrainingStage,
    TrainParams,
)

from scopeweave import hookimpl  # noqa: E402

#: Easy frames: few bright spots on a low background.
EASY = SyntheticLevel(density_per_um2=(0.3, 0.6), photons_mean=(2000.0, 4000.0), background_photons=(5.0, 10.0),
                      psf_sigma_nm=(130.0, 130.0), calcium_event_rate_hz=(2.0, 4.0))


@hookimpl
def scopeweave_localizers():
    return registrations.localizers()


@hookimpl
def scopeweave_workflows():
    return registrations.workflows()


DEEP_PLUGIN = SimpleNamespace(scopeweave_localizers=scopeweave_localizers, scopeweave_workflows=scopeweave_workflows)


@pytest.fixture
def deep_registry(puncta_registry):
    """The puncta registry plus the deep registrations (unless plugin.py already provides them)."""
    if "hybrid-unet" not in puncta_registry.specs("localizer"):
        puncta_registry.register(DEEP_PLUGIN, name="puncta-deep", distribution="scopeweave-puncta")
    return puncta_registry


def tiny_params(*, steps: int, in_channels: int = 2, seed: int = 0, **overrides) -> TrainParams:
    """A small, fast training configuration on easy frames."""
    settings: dict[str, Any] = dict(
        model=ModelConfig(in_channels=in_channels, context_frames=3 if in_channels == 2 else 1, base_channels=4,
                          depth=2),
        curriculum=(EASY,), batch_size=4, crop_px=32, validation_every_steps=max(1, steps // 2),
        validation_samples=8, validation_image_px=32, seed=seed, tensorboard=False, num_threads=1,
        stages=(TrainingStage(steps=steps, learning_rate=5e-3, warmup_steps=2),), loss=LossParams(),
    )
    settings.update(overrides)
    return TrainParams(**settings)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A two-channel tiny model trained for 40 steps: it finds some spots (for I/O and workflow tests, not accuracy)."""
    from scopeweave_puncta.deep.trainer import Trainer

    out = tmp_path_factory.mktemp("tiny-train")
    params = tiny_params(steps=40, validation_every_steps=40,
                         stages=(TrainingStage(steps=40, learning_rate=1e-2, warmup_steps=2),))
    return Trainer(params, out).run().last_checkpoint


@pytest.fixture
def easy() -> SyntheticLevel:
    """The easy curriculum level (few bright spots, low background, active calcium)."""
    return EASY


@pytest.fixture
def make_params():
    """:func:`tiny_params`: a small, fast training configuration."""
    return tiny_params
