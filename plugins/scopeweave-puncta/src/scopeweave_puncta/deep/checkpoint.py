"""Checkpoints of the hybrid U-Net: saving, loading, shape checks, encoder transfer.

A checkpoint is a ``torch.save`` dict (read back with ``weights_only=True``,
so loading never runs code from the file) holding ``format``, the
``model_config`` it was built with, the ``model_state``, and for training
runs the loss weights, optimizer state, step, metrics history, the training
parameters and the conditions the model was trained for (``trained_for``:
pixel size, PSF widths, camera).  Files are written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import nn

from scopeweave.atomic import atomic_path
from scopeweave.errors import ScopeweaveError
from scopeweave_puncta.deep.model import HybridUNet
from scopeweave_puncta.deep.params import ModelConfig

__all__ = [
    "CHECKPOINT_FORMAT",
    "LoadedModel",
    "check_compatible",
    "load_checkpoint",
    "load_encoder",
    "load_model",
    "model_config_from",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "scopeweave-puncta/hybrid-unet/1"


def save_checkpoint(path: str | os.PathLike[str], model: HybridUNet, **extra: Any) -> Path:
    """Write ``model`` (its config and weights) and ``extra`` entries to ``path`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model_config": attrs.asdict(model.config),
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "torch_version": str(torch.__version__),
        **extra,
    }
    with atomic_path(target) as tmp:
        torch.save(payload, tmp)
    return target


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint dict (tensors on the CPU); a clear error for a missing or foreign file."""
    file = Path(path)
    if not file.is_file():
        raise ScopeweaveError(f"{file}: no such checkpoint file.")
    try:
        data = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a corrupt file
        raise ScopeweaveError(f"{file}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc}).") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ScopeweaveError(f"{file}: not a hybrid-unet checkpoint (format {found!r}, expected {CHECKPOINT_FORMAT!r}).")
    return data


def model_config_from(data: Mapping[str, Any], path: str | os.PathLike[str]) -> ModelConfig:
    """The :class:`ModelConfig` stored in checkpoint ``data`` read from ``path``."""
    try:
        return ModelConfig(**data["model_config"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ScopeweaveError(f"{path}: invalid model_config in the checkpoint ({exc}).") from None


def _shape_problems(expected: Mapping[str, torch.Tensor], found: Mapping[str, torch.Tensor]) -> list[str]:
    problems = [f"{k}: checkpoint {tuple(found[k].shape)}, model {tuple(v.shape)}"
                for k, v in expected.items() if k in found and found[k].shape != v.shape]
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    if missing:
        problems.append(f"missing in the checkpoint: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    if unexpected:
        problems.append(f"not in the model: {', '.join(unexpected[:5])}{' ...' if len(unexpected) > 5 else ''}")
    return problems


def _describe(config: ModelConfig) -> str:
    return (f"in_channels={config.in_channels}, context_frames={config.context_frames}, "
            f"base_channels={config.base_channels}, depth={config.depth}, "
            f"calcium_width_factor={config.calcium_width_factor}")


def check_compatible(model: HybridUNet, data: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Raise a clear error when checkpoint ``data`` does not fit ``model``'s shape."""
    stored = model_config_from(data, path)
    problems = _shape_problems(model.state_dict(), data["model_state"])
    if problems:
        raise ScopeweaveError(
            f"{path}: the checkpoint is for a model of another shape ({_describe(stored)}); this model has "
            f"{_describe(model.config)}. Mismatches: {'; '.join(problems[:4])}."
        )


@attrs.frozen(kw_only=True, eq=False)
class LoadedModel:
    """A model rebuilt from a checkpoint.

    Attributes
    ----------
    model
        The network in eval mode, on the CPU.
    path
        The checkpoint file.
    data
        The whole checkpoint dict.
    """

    model: HybridUNet
    path: Path
    data: dict[str, Any]

    @property
    def trained_for(self) -> dict[str, Any]:
        """Conditions the model was trained for (pixel size, PSF width range, camera), if recorded."""
        value = self.data.get("trained_for")
        return dict(value) if isinstance(value, dict) else {}


def load_model(path: str | os.PathLike[str]) -> LoadedModel:
    """Rebuild the network stored in a checkpoint."""
    data = load_checkpoint(path)
    model = HybridUNet(model_config_from(data, path))
    check_compatible(model, data, path)
    model.load_state_dict(data["model_state"])
    return LoadedModel(model=model.eval(), path=Path(path), data=data)


def load_encoder(model: HybridUNet, path: str | os.PathLike[str]) -> int:
    """Copy encoder weights from ``path`` into ``model``; returns the number of tensors copied.

    ``path`` is a hybrid-unet checkpoint, or a plain state dict (or a dict
    with a ``state_dict``/``model_state`` entry) whose encoder keys match,
    with or without an ``encoder.`` prefix.
    """
    file = Path(path)
    if not file.is_file():
        raise ScopeweaveError(f"{file}: no such encoder checkpoint.")
    try:
        data = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a corrupt file
        raise ScopeweaveError(f"{file}: not a readable PyTorch checkpoint ({type(exc).__name__}: {exc}).") from None
    state = data
    if isinstance(data, dict):
        for key in ("model_state", "state_dict", "model"):
            if isinstance(data.get(key), dict):
                state = data[key]
                break
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ScopeweaveError(f"{file}: holds no state dict of tensors.")
    encoder: nn.Module = model.encoder
    prefixed = {k[len("encoder."):]: v for k, v in state.items() if k.startswith("encoder.")}
    source = prefixed or state
    problems = _shape_problems(encoder.state_dict(), source)
    if problems:
        raise ScopeweaveError(
            f"{file}: its encoder does not fit this model's encoder ({_describe(model.config)}). "
            f"Mismatches: {'; '.join(problems[:4])}."
        )
    encoder.load_state_dict(source)
    return len(source)
