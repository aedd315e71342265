"""Shared PSF numerics: rendering, the astigmatic width model, fitting, CRLB."""

from scopeweave_psf.astigmatism import ZhuangAxis, zhuang_width
from scopeweave_psf.render import render_gaussian

__all__ = ["ZhuangAxis", "render_gaussian", "zhuang_width"]
