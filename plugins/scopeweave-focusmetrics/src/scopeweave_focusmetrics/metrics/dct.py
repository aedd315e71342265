"""DCT family (Pertuz DCT1-DCT3) on non-overlapping blocks, vectorised with an orthonormal DCT matrix."""

from __future__ import annotations

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage
from scipy.fft import dct

from scopeweave_focusmetrics.metrics.base import FocusMetric, SaturationParams, params_doc

__all__ = ["BlockParams", "DctEnergyRatio", "DctReducedEnergyRatio", "ModifiedDct", "block_dct"]


def _block(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value not in (4, 8, 16, 32):
        raise ValueError(f"'{attribute.name}' must be 4, 8, 16 or 32 px (got {value!r}).")


@attrs.frozen(kw_only=True)
class BlockParams(SaturationParams):
    block_px: int = attrs.field(default=8, validator=_block)


BlockParams.__doc__ = params_doc(
    "Parameters of the block-DCT metrics.",
    {"block_px": "Side of the DCT blocks (Shen 2006: 8). Pixels beyond a whole number of blocks are ignored."},
)


def block_dct(frame: NDArray[np.generic], block_px: int) -> NDArray[np.float64]:
    """Orthonormal 2D DCT-II of every whole ``block_px`` block: shape (by, bx, block_px, block_px)."""
    h, w = (frame.shape[0] // block_px) * block_px, (frame.shape[1] // block_px) * block_px
    if h == 0 or w == 0:
        raise ValueError(f"the frame ({frame.shape}) is smaller than one {block_px} x {block_px} DCT block.")
    blocks = frame[:h, :w].astype(np.float64).reshape(h // block_px, block_px, w // block_px, block_px)
    blocks = blocks.transpose(0, 2, 1, 3)
    return np.asarray(dct(dct(blocks, axis=-1, norm="ortho"), axis=-2, norm="ortho"))


class DctEnergyRatio(FocusMetric):
    """Mean over blocks of AC energy / DC energy of the block DCT (Shen & Chen 2006, DCT1).

    A ratio: gain invariant; an offset raises the DC term. Blocks with DC = 0 contribute their AC energy.
    """

    name = "dct-energy-ratio"
    family = "dct"
    reference = "Pertuz DCT1 (DCTE), Shen & Chen 2006"
    raw_gain_exponent = 0.0
    raw_offset_invariant = False

    def __init__(self, params: BlockParams) -> None:
        super().__init__(params)
        self.block_px = params.block_px

    def _score(self, frame: NDArray[np.generic]) -> float:
        energy = block_dct(frame, self.block_px) ** 2
        dc = energy[..., 0, 0]
        ac = energy.sum(axis=(-2, -1)) - dc
        ratio = np.where(dc > 0, ac / np.where(dc > 0, dc, 1.0), ac)
        return float(ratio.mean())


class DctReducedEnergyRatio(FocusMetric):
    """Mean over blocks of the five lowest AC coefficients' energy / DC energy (Lee 2009, DCT2).

    Coefficients (0,1), (0,2), (1,0), (1,1), (2,0). Gain invariant; offset raises DC.
    """

    name = "dct-reduced-energy-ratio"
    family = "dct"
    reference = "Pertuz DCT2 (DCTR), Lee 2009"
    raw_gain_exponent = 0.0
    raw_offset_invariant = False

    def __init__(self, params: BlockParams) -> None:
        super().__init__(params)
        self.block_px = params.block_px

    def _score(self, frame: NDArray[np.generic]) -> float:
        energy = block_dct(frame, self.block_px) ** 2
        dc = energy[..., 0, 0]
        low = energy[..., 0, 1] + energy[..., 0, 2] + energy[..., 1, 0] + energy[..., 1, 1] + energy[..., 2, 0]
        ratio = np.where(dc > 0, low / np.where(dc > 0, dc, 1.0), low)
        return float(ratio.mean())


_MDCT_KERNEL = np.array([[1, 1, -1, -1], [1, 1, -1, -1], [-1, -1, 1, 1], [-1, -1, 1, 1]], dtype=np.float64)


class ModifiedDct(FocusMetric):
    """Mean squared response to Lee's 4x4 modified-DCT kernel (Lee 2008, DCT3). Gain squared, offset invariant."""

    name = "modified-dct"
    family = "dct"
    reference = "Pertuz DCT3 (DCTM), Lee 2008"
    raw_gain_exponent = 2.0
    raw_offset_invariant = True

    def _score(self, frame: NDArray[np.generic]) -> float:
        response = ndimage.correlate(frame.astype(np.float64), _MDCT_KERNEL, mode="mirror")
        return float(np.mean(response * response))
