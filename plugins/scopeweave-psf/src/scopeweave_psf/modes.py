"""Fit modes: which of the seven PSF parameters a fit estimates."""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray

from scopeweave_psf._model_kernels import TIED_SIGMA

__all__ = ["FIT_MODES", "PARAM_NAMES", "FitMode", "free_indices", "needs_rotation"]

#: Columns of every parameter array, in order.
PARAM_NAMES: tuple[str, ...] = ("x_px", "y_px", "sigma_x_px", "sigma_y_px", "theta_rad", "photons", "background")

FitMode = Literal["elliptical", "elliptical_fixed_theta", "symmetric", "fixed_sigma"]
#: ``elliptical``: all seven free. ``elliptical_fixed_theta``: theta held (the fast
#: mode). ``symmetric``: one sigma for both axes, theta irrelevant. ``fixed_sigma``:
#: position, photons and background only.
FIT_MODES: tuple[str, ...] = get_args(FitMode)

_FREE: dict[str, tuple[int, ...]] = {
    "elliptical": (0, 1, 2, 3, 4, 5, 6),
    "elliptical_fixed_theta": (0, 1, 2, 3, 5, 6),
    "symmetric": (0, 1, TIED_SIGMA, 5, 6),
    "fixed_sigma": (0, 1, 5, 6),
}


def check_mode(mode: str) -> None:
    """Raise ValueError naming the allowed modes."""
    if mode not in _FREE:
        raise ValueError(f"mode must be one of {', '.join(FIT_MODES)} (got {mode!r}).")


def free_indices(mode: str) -> NDArray[np.int64]:
    """Indices of the free parameters (7 = one sigma shared by both axes)."""
    check_mode(mode)
    return np.asarray(_FREE[mode], dtype=np.int64)


def needs_rotation(mode: str, theta_rad: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Whether each evaluation needs the rotated (quadrature) model.

    Free theta always does; a fixed theta only when it is not exactly 0; a
    symmetric spot never.
    """
    check_mode(mode)
    if mode == "elliptical":
        return np.ones(theta_rad.shape, dtype=bool)
    if mode == "symmetric":
        return np.zeros(theta_rad.shape, dtype=bool)
    return np.asarray(theta_rad != 0.0)
