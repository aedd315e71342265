"""The parameters every pylablib camera takes, and their attrs validators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

__all__ = ["PylablibCameraParams", "at_least", "bit_depth", "positive", "roi_px"]


def positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    """attrs validator: ``value > 0``."""
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def at_least(minimum: int) -> Callable[[object, attrs.Attribute[Any], int], None]:
    """attrs validator factory: ``value >= minimum``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be >= {minimum} (got {value!r}).")

    return check


def bit_depth(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    """attrs validator: empty, or a digitiser depth from 8 to 32 bits."""
    if value is not None and not 8 <= value <= 32:
        raise ValueError(f"'{attribute.name}' must be between 8 and 32 when given (got {value!r}).")


def roi_px(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, int, int, int] | None) -> None:
    """attrs validator: empty, or ``(x, y, width, height)`` with x, y >= 0 and width, height >= 1."""
    if value is not None:
        x, y, width, height = value
        if x < 0 or y < 0 or width < 1 or height < 1:
            raise ValueError(f"'{attribute.name}' must be (x, y, width, height) with x, y >= 0 and width, height >= 1 "
                             f"(got {value!r}).")


@attrs.frozen(kw_only=True)
class PylablibCameraParams:
    """Parameters of every :class:`~scopeweave_pylablib.PylablibCamera`.

    A vendor subclass narrows ``trigger_mode`` to a ``Literal`` of its modes
    and documents, in its own ``Attributes`` section, only what is specific
    to its cameras (``scopeweave plugins show`` reads this section first,
    then the subclass's).

    Attributes
    ----------
    pixel_size_um
        Size of one unbinned camera pixel in the sample plane.
    camera_index
        Camera index of the vendor SDK (0: the first camera found).
    exposure_ms
        Exposure time; the camera's ``exposure_ms`` reports the value the
        SDK applied.
    roi_px
        ``(x, y, width, height)`` of the ROI in unbinned sensor pixels, width
        and height multiples of ``binning``; empty uses the full sensor.
    binning
        Binning factor, same on both axes.
    trigger_mode
        One of the camera's trigger modes (``internal``: free running).
    frame_timeout_ms
        Longest wait for one frame before an error (also bounds the wait for
        an external trigger).
    buffer_frames
        Frames in the ring buffer of sequence acquisitions.
    bit_depth
        Digitiser depth; empty reads it from the camera.
    """

    pixel_size_um: float = attrs.field(validator=positive)
    camera_index: int = attrs.field(default=0, validator=at_least(0))
    exposure_ms: float = attrs.field(default=10.0, validator=positive)
    roi_px: tuple[int, int, int, int] | None = attrs.field(default=None, validator=roi_px)
    binning: int = attrs.field(default=1, validator=at_least(1))
    trigger_mode: str = "internal"
    frame_timeout_ms: float = attrs.field(default=5000.0, validator=positive)
    buffer_frames: int = attrs.field(default=100, validator=at_least(2))
    bit_depth: int | None = attrs.field(default=None, validator=bit_depth)

    def __attrs_post_init__(self) -> None:
        """Refuse a ``roi_px`` whose width or height is not a multiple of ``binning``."""
        if self.roi_px is not None and (self.roi_px[2] % self.binning or self.roi_px[3] % self.binning):
            raise ValueError(f"'roi_px' width and height must be multiples of 'binning' = {self.binning} "
                             f"(got {self.roi_px!r}).")
