"""The Camera interface."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.kinds.component import Component

__all__ = ["Camera", "Roi"]


def _non_negative(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value}).")


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"'{attribute.name}' must be >= 1 (got {value}).")


@attrs.frozen(kw_only=True)
class Roi:
    """A rectangular region of the sensor, in unbinned sensor pixels.

    ``x_px``/``y_px`` are the column/row of its top-left pixel.
    """

    x_px: int = attrs.field(converter=int, validator=_non_negative)
    y_px: int = attrs.field(converter=int, validator=_non_negative)
    width_px: int = attrs.field(converter=int, validator=_positive)
    height_px: int = attrs.field(converter=int, validator=_positive)

    @classmethod
    def full(cls, sensor_shape_px: tuple[int, int]) -> Roi:
        """The whole sensor of shape ``(height, width)``."""
        height, width = sensor_shape_px
        return cls(x_px=0, y_px=0, width_px=width, height_px=height)

    @property
    def shape_px(self) -> tuple[int, int]:
        """``(height, width)`` of frames taken with this ROI."""
        return (self.height_px, self.width_px)

    def fits(self, sensor_shape_px: tuple[int, int]) -> bool:
        """Whether the ROI lies inside a sensor of shape ``(height, width)``."""
        height, width = sensor_shape_px
        return self.x_px + self.width_px <= width and self.y_px + self.height_px <= height


class Camera(Component):
    """A camera that returns frames as ``(y, x)`` numpy arrays.

    Implement :meth:`_do_snap`, :meth:`_apply_exposure_ms`, :meth:`_apply_roi`
    and the read-only properties; the base class validates values, keeps the
    current exposure and ROI, and checks every frame's shape.
    """

    def __init__(self, *, exposure_ms: float, sensor_shape_px: tuple[int, int]) -> None:
        self._exposure_ms = float(exposure_ms)
        self._sensor_shape_px = (int(sensor_shape_px[0]), int(sensor_shape_px[1]))
        self._roi = Roi.full(self._sensor_shape_px)

    # --- properties -------------------------------------------------------
    @property
    def sensor_shape_px(self) -> tuple[int, int]:
        """``(height, width)`` of the full sensor."""
        return self._sensor_shape_px

    @property
    @abc.abstractmethod
    def pixel_size_um(self) -> float:
        """Size of one camera pixel in the sample plane, in micrometres."""

    @property
    @abc.abstractmethod
    def bit_depth(self) -> int:
        """Bits per pixel of the digitiser."""

    @property
    def exposure_ms(self) -> float:
        """Exposure time in milliseconds."""
        return self._exposure_ms

    def set_exposure_ms(self, exposure_ms: float) -> None:
        """Set the exposure time; it must be finite and positive."""
        value = float(exposure_ms)
        if not np.isfinite(value) or value <= 0:
            raise ValueError(f"'exposure_ms' must be a finite number > 0 (got {exposure_ms!r}).")
        if self.initialized:
            self._apply_exposure_ms(value)
        self._exposure_ms = value

    @property
    def roi(self) -> Roi:
        """The current region of interest."""
        return self._roi

    def set_roi(self, roi: Roi | None) -> None:
        """Set the region of interest; ``None`` selects the full sensor."""
        roi = Roi.full(self.sensor_shape_px) if roi is None else roi
        if not roi.fits(self.sensor_shape_px):
            raise ValueError(f"'roi' must lie inside the sensor of shape {self.sensor_shape_px} (got {roi}).")
        if self.initialized:
            self._apply_roi(roi)
        self._roi = roi

    # --- acquisition --------------------------------------------------------
    def snap(self) -> NDArray[Any]:
        """Expose once and return the frame, shape :attr:`Roi.shape_px`."""
        self._require_initialized()
        frame = np.asarray(self._do_snap())
        if frame.shape != self._roi.shape_px:
            raise RuntimeError(
                f"{type(self).__name__} returned a frame of shape {frame.shape}; "
                f"the ROI needs {self._roi.shape_px}."
            )
        return frame

    def acquire_sequence(self, n_frames: int) -> Iterator[NDArray[Any]]:
        """Yield ``n_frames`` frames; backends with a hardware sequence mode override it."""
        if n_frames < 0:
            raise ValueError(f"'n_frames' must be >= 0 (got {n_frames}).")
        for _ in range(n_frames):
            yield self.snap()

    def _do_initialize(self) -> None:
        self._apply_exposure_ms(self._exposure_ms)
        self._apply_roi(self._roi)

    @abc.abstractmethod
    def _do_snap(self) -> NDArray[Any]:
        """Acquire one frame with the current settings."""

    @abc.abstractmethod
    def _apply_exposure_ms(self, exposure_ms: float) -> None:
        """Send the exposure time to the device."""

    @abc.abstractmethod
    def _apply_roi(self, roi: Roi) -> None:
        """Send the ROI to the device."""
