"""The Camera interface, its frame metadata and its optional trigger capability."""

from __future__ import annotations

import abc
import math
import operator
import time
from collections.abc import Iterator
from typing import Any, ClassVar, Protocol, runtime_checkable

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.kinds.component import Component

__all__ = ["STANDARD_TRIGGER_MODES", "Camera", "FrameInfo", "Roi", "SupportsTriggerMode"]

#: Trigger modes with the same meaning on every camera that offers them:
#: ``internal`` (free running: the camera times its own frames), ``software``
#: (the camera fires one trigger per frame it is asked for) and ``external``
#: (an input pulse starts each frame).  Cameras may offer vendor modes besides.
STANDARD_TRIGGER_MODES: tuple[str, ...] = ("internal", "software", "external")


def _non_negative(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value}).")


def _positive(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"'{attribute.name}' must be >= 1 (got {value}).")


def _finite(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"'{attribute.name}' must be finite (got {value}).")


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
        """``(height, width)`` of the region, in unbinned sensor pixels."""
        return (self.height_px, self.width_px)

    def fits(self, sensor_shape_px: tuple[int, int]) -> bool:
        """Whether the ROI lies inside a sensor of shape ``(height, width)``."""
        height, width = sensor_shape_px
        return self.x_px + self.width_px <= width and self.y_px + self.height_px <= height


@attrs.frozen(kw_only=True)
class FrameInfo:
    """When a frame was taken, and which frame of its acquisition it is.

    Attributes
    ----------
    frame_index
        0-based index of the frame since its acquisition started (a snap is
        an acquisition of one frame); a gap means frames were lost.
    timestamp_s
        Time of the frame in seconds on the camera's clock: the hardware
        timestamp where the camera provides one, else a monotonic host clock
        read when the frame arrived.  Only differences between timestamps of
        one camera are meaningful.
    """

    frame_index: int = attrs.field(converter=int, validator=_non_negative)
    timestamp_s: float = attrs.field(converter=float, validator=_finite)


@runtime_checkable
class SupportsTriggerMode(Protocol):
    """Optional capability of a :class:`Camera`: selectable trigger modes.

    ``trigger_modes`` lists the modes the camera accepts; those of
    :data:`STANDARD_TRIGGER_MODES` it offers keep their standard meaning.
    ``set_trigger_mode`` refuses any other name with a ``ValueError`` naming
    ``trigger_mode``; snaps and sequences work in every mode (in ``external``
    mode they wait for the pulses).
    """

    @property
    def trigger_modes(self) -> tuple[str, ...]:
        """Names of the trigger modes the camera accepts."""

    @property
    def trigger_mode(self) -> str:
        """The current trigger mode."""

    def set_trigger_mode(self, mode: str) -> None:
        """Select one of :attr:`trigger_modes`."""


def _as_int(name: str, value: Any) -> int:
    """``value`` as an int, refusing booleans and non-integral numbers."""
    if isinstance(value, bool):
        raise ValueError(f"'{name}' must be an integer (got {value!r}).")
    try:
        return operator.index(value)
    except TypeError:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"'{name}' must be an integer (got {value!r}).") from None


def _close(stream: Iterator[Any]) -> None:
    """Close a generator early, so that its ``finally`` clauses (stopping the hardware) run now."""
    close = getattr(stream, "close", None)
    if close is not None:
        close()


class Camera(Component):
    """A camera that returns frames as ``(y, x)`` numpy arrays.

    Implement :meth:`_do_snap`, :meth:`_apply_exposure_ms`, :meth:`_apply_roi`,
    :attr:`pixel_size_um` and :attr:`bit_depth`; cameras that bin set
    :attr:`supports_binning` and implement :meth:`_apply_binning`.  The base
    class validates every setting before the device sees it, keeps the
    current exposure (as the device accepted it), binning and ROI, applies
    them when the camera starts, and checks every frame's shape against
    :attr:`frame_shape_px`.

    A camera that learns its sensor size from the device passes
    ``sensor_shape_px=None`` and calls :meth:`_set_sensor_shape_px` in its
    :meth:`_do_initialize` before calling the base class's; until then
    :attr:`sensor_shape_px` and :attr:`roi` raise.

    Override :meth:`_do_acquire_sequence` (and :meth:`_do_snap_with_info`)
    when the hardware has a sequence mode or frame timestamps; the defaults
    repeat :meth:`_do_snap` and stamp frames with a monotonic host clock.
    """

    #: Whether the camera can bin.  ``False``: the base class refuses any
    #: binning but 1 without touching the device.  ``True``: the camera
    #: implements :meth:`_apply_binning` (which may still refuse a factor the
    #: device does not offer).
    supports_binning: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.supports_binning and cls._apply_binning is Camera._apply_binning:
            raise TypeError(f"{cls.__name__} sets supports_binning but does not implement _apply_binning.")

    def __init__(self, *, exposure_ms: float, sensor_shape_px: tuple[int, int] | None = None,
                 binning: int = 1) -> None:
        self._exposure_ms = self._valid_exposure_ms(exposure_ms)
        self._binning = self._valid_binning(binning)
        self._sensor_shape_px: tuple[int, int] | None = None
        self._roi: Roi | None = None
        if sensor_shape_px is not None:
            self._set_sensor_shape_px(sensor_shape_px)

    # --- sensor and ROI -------------------------------------------------------
    @property
    def sensor_shape_px(self) -> tuple[int, int]:
        """``(height, width)`` of the full sensor in unbinned pixels."""
        if self._sensor_shape_px is None:
            raise self._sensor_unknown()
        return self._sensor_shape_px

    def _sensor_unknown(self) -> RuntimeError:
        return RuntimeError(f"{type(self).__name__} reads its sensor size from the device; call initialize() first.")

    def _set_sensor_shape_px(self, sensor_shape_px: tuple[int, int]) -> None:
        """Record the sensor size (call it in ``_do_initialize`` when the device reports it).

        The ROI is kept when the size is unchanged (a camera started again)
        and reset to the full sensor otherwise.
        """
        height, width = (_as_int("sensor_shape_px", v) for v in sensor_shape_px)
        if height < 1 or width < 1:
            raise ValueError(f"'sensor_shape_px' must be two sizes >= 1 (got {tuple(sensor_shape_px)!r}).")
        if (height, width) != self._sensor_shape_px:
            self._roi = self._full_roi(self._binning, (height, width))
            self._sensor_shape_px = (height, width)

    def _full_roi(self, binning: int, sensor_shape_px: tuple[int, int] | None = None) -> Roi:
        """The whole sensor, trimmed to a whole number of ``binning`` x ``binning`` bins."""
        height, width = self.sensor_shape_px if sensor_shape_px is None else sensor_shape_px
        if binning > min(height, width):
            raise ValueError(f"'binning' {binning} is larger than the {width} x {height} px sensor.")
        return Roi(x_px=0, y_px=0, width_px=width - width % binning, height_px=height - height % binning)

    @property
    def roi(self) -> Roi:
        """The current region of interest, in unbinned sensor pixels."""
        if self._roi is None:
            raise self._sensor_unknown()
        return self._roi

    def set_roi(self, roi: Roi | None) -> None:
        """Set the region of interest; ``None`` selects the full sensor.

        The ROI must lie inside the sensor and its width and height must be
        multiples of :attr:`binning` (``None`` trims the full sensor to that).
        """
        roi = self._full_roi(self._binning) if roi is None else roi
        if not roi.fits(self.sensor_shape_px):
            raise ValueError(f"'roi' must lie inside the sensor of shape {self.sensor_shape_px} (got {roi}).")
        if roi.width_px % self._binning or roi.height_px % self._binning:
            raise ValueError(f"'roi' width and height must be multiples of the binning {self._binning} (got {roi}).")
        if self.initialized:
            self._apply_roi(roi)
        self._roi = roi

    # --- binning ------------------------------------------------------------------
    @property
    def binning(self) -> int:
        """Binning factor, the same on both axes (1: no binning)."""
        return self._binning

    def _valid_binning(self, binning: Any) -> int:
        value = _as_int("binning", binning)
        if value < 1:
            raise ValueError(f"'binning' must be >= 1 (got {binning!r}).")
        if value != 1 and not self.supports_binning:
            raise ValueError(f"'binning' must be 1: {type(self).__name__} cannot bin (got {binning!r}).")
        return value

    def set_binning(self, binning: int) -> None:
        """Bin ``binning`` x ``binning`` sensor pixels into one frame pixel.

        The current ROI's width and height must be multiples of it; frames
        then have shape :attr:`frame_shape_px`.
        """
        value = self._valid_binning(binning)
        if self._sensor_shape_px is not None:
            roi = self.roi
            if roi.width_px % value or roi.height_px % value:
                raise ValueError(f"'binning' {value} does not divide the ROI {roi}; first set a ROI whose width and "
                                 f"height are multiples of {value}.")
        if self.initialized:
            self._apply_binning(value)
        self._binning = value

    @property
    def frame_shape_px(self) -> tuple[int, int]:
        """``(height, width)`` of the frames: the ROI's shape divided by the binning."""
        height, width = self.roi.shape_px
        return (height // self._binning, width // self._binning)

    # --- exposure -------------------------------------------------------------------
    @staticmethod
    def _valid_exposure_ms(exposure_ms: Any) -> float:
        try:
            value = math.nan if isinstance(exposure_ms, (bool, str)) else float(exposure_ms)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"'exposure_ms' must be a finite number > 0 (got {exposure_ms!r}).")
        return value

    @property
    def exposure_ms(self) -> float:
        """Exposure time in ms: what the device accepted (before :meth:`initialize`, the requested one)."""
        return self._exposure_ms

    def set_exposure_ms(self, exposure_ms: float) -> None:
        """Set the exposure time; it must be finite and positive.

        The device may round it (to its line time, say) or clip it to its
        range; :attr:`exposure_ms` then reports the value it uses.
        """
        value = self._valid_exposure_ms(exposure_ms)
        if self.initialized:
            value = self._send_exposure_ms(value)
        self._exposure_ms = value

    def _send_exposure_ms(self, exposure_ms: float) -> float:
        accepted = self._apply_exposure_ms(exposure_ms)
        try:
            value = float(accepted)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise RuntimeError(f"{type(self).__name__}._apply_exposure_ms must return the exposure the device "
                               f"accepted, a finite number of ms > 0 (got {accepted!r}).")
        return value

    # --- read-only properties ---------------------------------------------------------
    @property
    @abc.abstractmethod
    def pixel_size_um(self) -> float:
        """Size of one pixel of the returned frames in the sample plane, in micrometres (binning included)."""

    @property
    @abc.abstractmethod
    def bit_depth(self) -> int:
        """Bits per pixel of the digitiser."""

    # --- acquisition ------------------------------------------------------------------
    def snap(self) -> NDArray[Any]:
        """Expose once and return the frame, shape :attr:`frame_shape_px`."""
        self._require_initialized()
        return self._checked(self._do_snap())

    def snap_with_info(self) -> tuple[NDArray[Any], FrameInfo]:
        """Expose once and return the frame and its :class:`FrameInfo`."""
        self._require_initialized()
        frame, info = self._do_snap_with_info()
        return self._checked(frame), info

    def acquire_sequence(self, n_frames: int) -> Iterator[NDArray[Any]]:
        """Yield ``n_frames`` frames (closing the iterator early stops the acquisition)."""
        return self._frames_only(self.acquire_sequence_with_info(n_frames))

    def acquire_sequence_with_info(self, n_frames: int) -> Iterator[tuple[NDArray[Any], FrameInfo]]:
        """Yield ``n_frames`` frames, each with its :class:`FrameInfo`."""
        count = _as_int("n_frames", n_frames)
        if count < 0:
            raise ValueError(f"'n_frames' must be >= 0 (got {n_frames}).")
        self._require_initialized()
        return self._checked_stream(count)

    def _checked_stream(self, n_frames: int) -> Iterator[tuple[NDArray[Any], FrameInfo]]:
        if n_frames == 0:
            return
        stream = self._do_acquire_sequence(n_frames)
        try:
            for frame, info in stream:
                yield self._checked(frame), info
        finally:
            _close(stream)

    @staticmethod
    def _frames_only(stream: Iterator[tuple[NDArray[Any], FrameInfo]]) -> Iterator[NDArray[Any]]:
        try:
            for frame, _ in stream:
                yield frame
        finally:
            _close(stream)

    def _checked(self, frame: Any) -> NDArray[Any]:
        array = np.asarray(frame)
        if array.shape != self.frame_shape_px:
            raise RuntimeError(
                f"{type(self).__name__} returned a frame of shape {array.shape}; the ROI {self.roi} with binning "
                f"{self._binning} needs {self.frame_shape_px}."
            )
        return array

    # --- hooks ---------------------------------------------------------------------------
    def _do_initialize(self) -> None:
        """Apply exposure, binning and ROI (subclasses open the device first, then call this)."""
        if self._sensor_shape_px is None:
            raise RuntimeError(f"{type(self).__name__}._do_initialize must call _set_sensor_shape_px() before the "
                               "base class applies the settings.")
        self._exposure_ms = self._send_exposure_ms(self._exposure_ms)
        self._apply_binning(self._binning)
        self._apply_roi(self.roi)

    @abc.abstractmethod
    def _do_snap(self) -> NDArray[Any]:
        """Acquire one frame with the current settings."""

    def _do_snap_with_info(self) -> tuple[NDArray[Any], FrameInfo]:
        """One frame and its info; the default stamps :meth:`_do_snap`'s frame with the host clock."""
        frame = self._do_snap()
        return frame, FrameInfo(frame_index=0, timestamp_s=time.perf_counter())

    def _do_acquire_sequence(self, n_frames: int) -> Iterator[tuple[NDArray[Any], FrameInfo]]:
        """``n_frames`` (>= 1) frames with their info; the default repeats :meth:`_do_snap`.

        Stop the hardware in a ``finally`` clause: the iterator may be closed early.
        """
        for index in range(n_frames):
            frame = self._do_snap()
            yield frame, FrameInfo(frame_index=index, timestamp_s=time.perf_counter())

    @abc.abstractmethod
    def _apply_exposure_ms(self, exposure_ms: float) -> float:
        """Send the exposure time to the device and return the exposure it accepted, in ms."""

    def _apply_binning(self, binning: int) -> None:
        """Send the binning to the device (called with the current ROI, which ``binning`` divides).

        Cameras that cannot bin keep this default: their binning is always 1
        and there is nothing to send.  Raise ``ValueError`` for a factor the
        device does not offer, leaving the device as it was.
        """

    @abc.abstractmethod
    def _apply_roi(self, roi: Roi) -> None:
        """Send the ROI (unbinned sensor pixels) to the device, with the current binning."""
