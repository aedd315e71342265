"""Synthetic stacks with known truth, made from a real image (scikit-image's bundled data).

A stack is the image blurred by a known defocus per frame, with injected
whole-frame shifts (motion), a drifted segment, gain changes and noise; the
returned :class:`StackTruth` says which frames are in focus, shaken and
drifted. Tests, the docs' figures and the demo data use it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

__all__ = ["StackTruth", "defocus_stack", "reference_image"]


def reference_image(name: str = "camera", *, shape_px: tuple[int, int] | None = None) -> NDArray[np.float64]:
    """A grey scikit-image data image scaled to [0, 1], optionally centre-cropped to ``shape_px``."""
    from skimage import color, data

    image = np.asarray(getattr(data, name)(), dtype=np.float64)
    if image.ndim == 3:
        image = color.rgb2gray(image[..., :3])
    image = (image - image.min()) / max(float(np.ptp(image)), 1e-12)
    if shape_px is not None:
        h, w = image.shape
        ch, cw = min(shape_px[0], h), min(shape_px[1], w)
        image = image[(h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw]
    return image


@attrs.frozen(kw_only=True)
class StackTruth:
    """What was done to each frame of a synthetic stack.

    Attributes
    ----------
    focus_index
        The in-focus frame.
    blur_sigma_px
        Gaussian defocus sigma of every frame.
    shaken
        Frames shifted away from their neighbours (transient motion).
    drifted
        Frames of the drifted segment (a lasting shift).
    gain
        Intensity gain of every frame.
    """

    focus_index: int
    blur_sigma_px: NDArray[np.float64]
    shaken: tuple[int, ...]
    drifted: tuple[int, ...]
    gain: NDArray[np.float64]


def defocus_stack(
    image: NDArray[np.float64],
    *,
    n_frames: int = 21,
    focus_index: int | None = None,
    sigma_per_frame_px: float = 0.6,
    min_sigma_px: float = 0.3,
    shake_px: Mapping[int, tuple[float, float]] | None = None,
    drift_frames: Sequence[int] = (),
    drift_px: tuple[float, float] = (0.0, 0.0),
    gain: Mapping[int, float] | None = None,
    photons: float = 2000.0,
    background: float = 100.0,
    read_noise: float = 2.0,
    seed: int = 0,
    dtype: type = np.uint16,
) -> tuple[NDArray[np.generic], StackTruth]:
    """A z-stack of ``image``: blur sigma grows by ``sigma_per_frame_px`` per frame away from focus.

    ``shake_px[i] = (dy, dx)`` shifts frame i only; ``drift_frames`` are all shifted by ``drift_px``;
    ``gain[i]`` multiplies frame i's signal. Poisson noise at ``photons`` per unit intensity, plus read noise.
    """
    focus = n_frames // 2 if focus_index is None else focus_index
    if not 0 <= focus < n_frames:
        raise ValueError(f"focus_index must be in 0..{n_frames - 1} (got {focus}).")
    rng = np.random.default_rng(seed)
    sigmas = np.hypot(min_sigma_px, sigma_per_frame_px * np.abs(np.arange(n_frames) - focus))
    gains = np.ones(n_frames)
    for index, value in (gain or {}).items():
        gains[index] = value
    shakes = dict(shake_px or {})
    drift = set(int(i) for i in drift_frames)
    frames = []
    for i in range(n_frames):
        shift = np.zeros(2)
        if i in drift:
            shift += drift_px
        if i in shakes:
            shift += shakes[i]
        moved = ndimage.shift(image, shift, order=3, mode="reflect") if np.any(shift) else image
        blurred = ndimage.gaussian_filter(moved, sigmas[i], mode="reflect")
        expected = background + gains[i] * photons * np.clip(blurred, 0, None)
        frame = rng.poisson(expected).astype(np.float64) + rng.normal(0.0, read_noise, expected.shape)
        frames.append(frame)
    stack = np.stack(frames)
    if np.issubdtype(dtype, np.integer):
        stack = np.clip(np.rint(stack), 0, np.iinfo(dtype).max)
    truth = StackTruth(focus_index=focus, blur_sigma_px=sigmas, shaken=tuple(sorted(shakes)),
                       drifted=tuple(sorted(drift)), gain=gains)
    return stack.astype(dtype), truth
