"""Focus models: ``zhuang`` (default), ``linear``, ``poly2`` and ``piecewise``."""

from __future__ import annotations

from scopeweave.kinds.focus_model import FocusModel
from scopeweave_focuslock.models.base import ZEstimate, ellipticity
from scopeweave_focuslock.models.ellipticity_models import (
    LinearFocusModel,
    PiecewiseCalibration,
    PiecewiseFocusModel,
    Poly2FocusModel,
    PolynomialCalibration,
    PolynomialParams,
)
from scopeweave_focuslock.models.zhuang import ZhuangCalibration, ZhuangFocusModel, ZhuangParams, zhuang_calibration

__all__ = [
    "LinearFocusModel",
    "PiecewiseCalibration",
    "PiecewiseFocusModel",
    "Poly2FocusModel",
    "PolynomialCalibration",
    "PolynomialParams",
    "ZEstimate",
    "ZhuangCalibration",
    "ZhuangFocusModel",
    "ZhuangParams",
    "builtin_models",
    "ellipticity",
    "zhuang_calibration",
]


def builtin_models() -> dict[str, FocusModel]:
    """The four built-in models with default parameters, by name."""
    models: list[FocusModel] = [ZhuangFocusModel(), LinearFocusModel(), Poly2FocusModel(), PiecewiseFocusModel()]
    return {model.name: model for model in models}
