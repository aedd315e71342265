"""Registration records of the deep model: the ``hybrid-unet`` localizer and three workflows.

The plugin module returns :func:`localizers` and :func:`workflows` from its
hooks.  Importing this module does not import torch: the factories import the
torch-based modules, and fail with an install hint when torch is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from scopeweave import LocalizerSpec, Role, WorkflowSpec
from scopeweave.errors import ScopeweaveError
from scopeweave_puncta.deep.params import DeepEvaluateParams, HybridUNetParams, InferParams, TrainParams

__all__ = ["localizers", "workflows"]

_INSTALL_HINT = "the deep model needs PyTorch: pip install 'scopeweave-puncta[deep]'"


def _deep(module: str) -> Any:
    try:
        importlib.import_module("torch")
    except ImportError:
        raise ScopeweaveError(_INSTALL_HINT) from None
    return importlib.import_module(f"scopeweave_puncta.deep.{module}")


def _make_localizer(params: HybridUNetParams, uses: Mapping[str, Any]) -> Any:
    return _deep("localizer").HybridUNetLocalizer(params)


def _make_train(params: TrainParams, uses: Mapping[str, Any]) -> Any:
    return _deep("workflows").TrainWorkflow(params)


def _make_infer(params: InferParams, uses: Mapping[str, Any]) -> Any:
    return _deep("workflows").InferWorkflow(params)


def _make_evaluate(params: DeepEvaluateParams, uses: Mapping[str, Any]) -> Any:
    return _deep("workflows").DeepEvaluateWorkflow(params, baseline=uses.get("baseline"))


def localizers() -> list[LocalizerSpec]:
    """The ``hybrid-unet`` localizer."""
    return [
        LocalizerSpec(
            name="hybrid-unet",
            summary="Deep U-Net (DECODE-style probability, offsets, photons, uncertainties) from trained checkpoints.",
            params_type=HybridUNetParams,
            factory=_make_localizer,
        )
    ]


def workflows() -> list[WorkflowSpec]:
    """``puncta-train``, ``puncta-infer`` and ``puncta-deep-evaluate``."""
    return [
        WorkflowSpec(
            name="puncta-train",
            summary="Train / fine-tune / resume the hybrid U-Net on on-the-fly synthetic (and ThunderSTORM) data.",
            params_type=TrainParams,
            factory=_make_train,
        ),
        WorkflowSpec(
            name="puncta-infer",
            summary="Hybrid U-Net inference on TIFF movies -> localizations.csv, tracks.csv, calcium events.",
            params_type=InferParams,
            factory=_make_infer,
        ),
        WorkflowSpec(
            name="puncta-deep-evaluate",
            summary="Hybrid U-Net vs ground truth and gauss-mle at low/high density: the seed's performance tables.",
            params_type=DeepEvaluateParams,
            factory=_make_evaluate,
            uses={"baseline": Role(kind="localizer", required=False,
                                   summary="baseline to compare with (default: gauss-mle with the test movies' camera)")},
        ),
    ]
