"""Shared PSF numerics: rendering, the astigmatic width model, fitting, CRLB."""

from scopeweave_psf.astigmatism import ZhuangAxis, zhuang_width
from scopeweave_psf.fitting import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE, FitResult, fit_spots
from scopeweave_psf.modes import FIT_MODES, PARAM_NAMES, FitMode
from scopeweave_psf.moments import MomentEstimate, SpotParameters, moment_estimate
from scopeweave_psf.precision import CRLBResult, crlb
from scopeweave_psf.render import render_gaussian

__all__ = [
    "DEFAULT_MAX_ITERATIONS",
    "DEFAULT_TOLERANCE",
    "FIT_MODES",
    "PARAM_NAMES",
    "CRLBResult",
    "FitMode",
    "FitResult",
    "MomentEstimate",
    "SpotParameters",
    "ZhuangAxis",
    "crlb",
    "fit_spots",
    "moment_estimate",
    "render_gaussian",
    "zhuang_width",
]
