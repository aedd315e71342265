"""The Zhuang astigmatic width model (Huang et al., Science 2008).

w(z) = w0 * sqrt(1 + X**2 + A * X**3 + B * X**4),  X = (z - c) / d
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ZhuangAxis", "zhuang_width"]


def zhuang_width(
    z_um: ArrayLike, *, w0_px: float, c_um: float, d_um: float, a: float = 0.0, b: float = 0.0
) -> NDArray[np.float64]:
    """PSF width (Gaussian sigma, px) at axial position ``z_um``.

    Parameters
    ----------
    z_um
        Axial position(s) in micrometres.
    w0_px
        Width at the axis' focus, in pixels.
    c_um
        Axial position of the axis' focus.
    d_um
        Focal depth: the width grows by sqrt(2) at ``|z - c| = d`` (for a = b = 0).
    a, b
        Third- and fourth-order corrections.
    """
    x = (np.asarray(z_um, dtype=float) - c_um) / d_um
    radicand = 1.0 + x**2 + a * x**3 + b * x**4
    return w0_px * np.sqrt(np.maximum(radicand, 1e-12))


@attrs.frozen(kw_only=True)
class ZhuangAxis:
    """Zhuang parameters of one axis (x or y)."""

    w0_px: float = attrs.field(validator=attrs.validators.gt(0))
    c_um: float
    d_um: float = attrs.field(validator=attrs.validators.gt(0))
    a: float = 0.0
    b: float = 0.0

    def width_px(self, z_um: ArrayLike) -> NDArray[np.float64]:
        """Width at ``z_um`` (see :func:`zhuang_width`)."""
        return zhuang_width(z_um, w0_px=self.w0_px, c_um=self.c_um, d_um=self.d_um, a=self.a, b=self.b)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON files."""
        return attrs.asdict(self)
