"""Andor sCMOS cameras (SDK3) through pylablib's ``AndorSDK3Camera``.

Everything the camera does goes through the pylablib object returned by
:func:`~scopeweave_andor.sdk.open_sdk3_camera`: exposure (pylablib uses
seconds), AOI and binning (``set_roi``), trigger mode, and frame acquisition
with the camera's hardware timestamps (frame metadata, clock ticks divided by
``TimestampClockFrequency``).  ROIs are given in unbinned sensor pixels; a
binned frame has shape ``(height // binning, width // binning)``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ComponentError
from scopeweave.kinds import Camera, Roi
from scopeweave_andor.sdk import open_sdk3_camera

__all__ = ["TRIGGER_MODES", "AndorCamera", "AndorParams", "FrameInfo"]

TriggerMode = Literal["internal", "external", "software", "external_start", "external_exposure"]

#: scopeweave trigger mode -> pylablib Andor SDK3 trigger mode.
TRIGGER_MODES: dict[str, str] = {
    "internal": "int",
    "external": "ext",
    "software": "software",
    "external_start": "ext_start",
    "external_exposure": "ext_exp",
}


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def _at_least(minimum: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be >= {minimum} (got {value!r}).")

    return check


def _bit_depth(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and not 8 <= value <= 32:
        raise ValueError(f"'{attribute.name}' must be between 8 and 32 when given (got {value!r}).")


def _roi_px(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, int, int, int] | None) -> None:
    if value is not None:
        x, y, width, height = value
        if x < 0 or y < 0 or width < 1 or height < 1:
            raise ValueError(f"'{attribute.name}' must be (x, y, width, height) with x, y >= 0 and width, height >= 1 "
                             f"(got {value!r}).")


@attrs.frozen(kw_only=True)
class FrameInfo:
    """Acquisition metadata of one frame.

    Attributes
    ----------
    frame_index
        Index of the frame since its acquisition started (0-based); a gap
        means frames were lost.
    timestamp_s
        Hardware timestamp of the frame, in seconds since the camera clock
        was reset when the camera started.
    """

    frame_index: int
    timestamp_s: float


@attrs.frozen(kw_only=True)
class AndorParams:
    """Parameters of the ``andor`` camera.

    Attributes
    ----------
    pixel_size_um
        Size of one unbinned camera pixel in the sample plane (6.5 um / M on
        a Zyla 4.2 behind an M-fold objective).
    camera_index
        Andor SDK3 camera index (0: the first camera found).
    exposure_ms
        Exposure time.
    roi_px
        ``(x, y, width, height)`` of the AOI in unbinned sensor pixels; empty
        uses the full sensor.
    binning
        Binning factor, same on both axes (1 to 8).
    trigger_mode
        ``internal`` (free running), ``external`` (an input pulse starts each
        frame), ``software`` (scopeweave fires a trigger for every frame),
        ``external_start`` or ``external_exposure`` (the pulse width sets the
        exposure).
    frame_timeout_ms
        Longest wait for one frame before an error (also bounds the wait for
        an external trigger).
    buffer_frames
        Frames in the ring buffer of sequence acquisitions.
    bit_depth
        Digitiser depth; empty reads it from the camera (``BitDepth``).
    """

    pixel_size_um: float = attrs.field(validator=_positive)
    camera_index: int = attrs.field(default=0, validator=_at_least(0))
    exposure_ms: float = attrs.field(default=10.0, validator=_positive)
    roi_px: tuple[int, int, int, int] | None = attrs.field(default=None, validator=_roi_px)
    binning: int = attrs.field(default=1, validator=_at_least(1))
    trigger_mode: TriggerMode = "internal"
    frame_timeout_ms: float = attrs.field(default=5000.0, validator=_positive)
    buffer_frames: int = attrs.field(default=100, validator=_at_least(2))
    bit_depth: int | None = attrs.field(default=None, validator=_bit_depth)

    def __attrs_post_init__(self) -> None:
        if self.roi_px is not None and (self.roi_px[2] % self.binning or self.roi_px[3] % self.binning):
            raise ValueError(f"'roi_px' width and height must be multiples of 'binning' = {self.binning} "
                             f"(got {self.roi_px!r}).")


class AndorCamera(Camera):
    """An Andor sCMOS camera (any SDK3 camera) behind pylablib."""

    vendor = "Andor"

    def __init__(self, params: AndorParams) -> None:
        # The sensor size is read from the camera when it starts.
        super().__init__(exposure_ms=params.exposure_ms, sensor_shape_px=(1, 1))
        self.params = params
        self._cam: Any = None
        self._sensor_known = False
        self._binning = params.binning
        self._trigger_mode: str = params.trigger_mode
        self._bit_depth = params.bit_depth
        self.device_info: dict[str, str] = {}
        self.device_exposure_ms = math.nan
        self.last_frame_info: FrameInfo | None = None
        self.dropped_frames = 0
        self.timestamp_clock_hz = math.nan

    # --- properties -------------------------------------------------------------
    def _require_sensor(self) -> None:
        if not self._sensor_known:
            raise RuntimeError(f"{type(self).__name__} reads its sensor size from the camera; call initialize() first.")

    @property
    def sensor_shape_px(self) -> tuple[int, int]:
        """``(height, width)`` of the full sensor in unbinned pixels (known once initialised)."""
        self._require_sensor()
        return self._sensor_shape_px

    @property
    def roi(self) -> Roi:
        """The current AOI, in unbinned sensor pixels."""
        self._require_sensor()
        return self._roi

    @property
    def pixel_size_um(self) -> float:
        """Size of one pixel of the returned frames (binned) in the sample plane."""
        return self.params.pixel_size_um * self._binning

    @property
    def bit_depth(self) -> int:
        if self._bit_depth is None:
            raise RuntimeError("the bit depth is read from the camera; call initialize() first.")
        return self._bit_depth

    @property
    def binning(self) -> int:
        """Binning factor (both axes)."""
        return self._binning

    @property
    def trigger_mode(self) -> str:
        """``internal``, ``external``, ``software``, ``external_start`` or ``external_exposure``."""
        return self._trigger_mode

    @property
    def frame_shape_px(self) -> tuple[int, int]:
        """Shape of the frames the current ROI and binning give."""
        height, width = self.roi.shape_px
        return (height // self._binning, width // self._binning)

    # --- lifecycle ----------------------------------------------------------------
    def _do_initialize(self) -> None:
        self._cam = open_sdk3_camera(self.params.camera_index)
        try:
            with self._errors("setup"):
                width, height = self._cam.get_detector_size()
                self._sensor_shape_px = (int(height), int(width))
                self._sensor_known = True
                self._roi = self._initial_roi()
                self.device_info = {k: str(v) for k, v in self._cam.get_device_info()._asdict().items()}
                if self._bit_depth is None:
                    self._bit_depth = self._read_bit_depth(
                        self._cam.get_attribute_value("BitDepth", error_on_missing=False, default=None))
                self._enable_timestamps()
                self._send_trigger_mode(self._trigger_mode)
            super()._do_initialize()
        except BaseException:
            self._close()
            raise

    def _enable_timestamps(self) -> None:
        """Stream frame metadata with the hardware timestamp, clock reset to zero now."""
        cam = self._cam
        if not cam.enable_metadata(True):
            raise ComponentError("the camera does not stream frame metadata, so frames would have no timestamps.")
        cam.set_attribute_value("MetadataTimestamp", True, error_on_missing=False)
        cam.call_command("TimestampClockReset")
        self.timestamp_clock_hz = float(cam.get_attribute_value("TimestampClockFrequency"))
        if not self.timestamp_clock_hz > 0:
            raise ComponentError(f"the camera reports a timestamp clock of {self.timestamp_clock_hz} Hz.")

    def _read_bit_depth(self, value: Any) -> int:
        """The digitiser depth from the camera's ``BitDepth`` value (e.g. ``"12 Bit (low noise)"``)."""
        text = str(value).split()[0] if value is not None else ""
        if not text.isdigit():
            raise ComponentError(f"the camera does not report its bit depth (BitDepth = {value!r}); set bit_depth.")
        return int(text)

    def _initial_roi(self) -> Roi:
        if self.params.roi_px is None:
            return Roi.full(self._sensor_shape_px)
        x, y, width, height = self.params.roi_px
        roi = Roi(x_px=x, y_px=y, width_px=width, height_px=height)
        if not roi.fits(self._sensor_shape_px):
            raise ComponentError(f"roi_px {self.params.roi_px} lies outside the {self._sensor_shape_px[1]} x "
                                 f"{self._sensor_shape_px[0]} px sensor.")
        return roi

    def _do_shutdown(self) -> None:
        self._close()

    def _close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            with self._errors("close", cam=cam):
                cam.close()

    @contextlib.contextmanager
    def _errors(self, action: str, *, cam: Any = None) -> Iterator[None]:
        """Turn pylablib device errors into :class:`ComponentError`."""
        error_type = getattr(cam if cam is not None else self._cam, "Error", ())
        try:
            yield
        except error_type as exc:
            raise ComponentError(f"{self.vendor} camera {self.params.camera_index}: {action} failed: {exc}") from exc

    # --- settings ---------------------------------------------------------------------
    def _apply_exposure_ms(self, exposure_ms: float) -> None:
        with self._errors("setting the exposure"):
            seconds = self._cam.set_exposure(exposure_ms / 1000.0)
        self.device_exposure_ms = float(seconds) * 1000.0

    def _apply_roi(self, roi: Roi) -> None:
        self._send_roi(roi, self._binning)

    def _send_roi(self, roi: Roi, binning: int) -> None:
        if roi.width_px % binning or roi.height_px % binning:
            raise ValueError(f"'roi' width and height must be multiples of the binning {binning} (got {roi}).")
        requested = (roi.x_px, roi.x_px + roi.width_px, roi.y_px, roi.y_px + roi.height_px, binning, binning)
        with self._errors("setting the ROI"):
            applied = tuple(int(v) for v in self._cam.set_roi(*requested))
        if applied != requested:
            previous = self._roi
            with self._errors("restoring the ROI"):
                self._cam.set_roi(previous.x_px, previous.x_px + previous.width_px, previous.y_px,
                                  previous.y_px + previous.height_px, self._binning, self._binning)
            raise ValueError(
                f"'roi' {roi} with binning {binning} is not supported by the camera: it would apply "
                f"(hstart, hend, vstart, vend, hbin, vbin) = {applied}; keep the AOI above the camera's minimum "
                f"size and use a supported binning."
            )

    def set_binning(self, binning: int) -> None:
        """Set the binning; the current ROI must divide by it."""
        value = int(binning)
        if value < 1:
            raise ValueError(f"'binning' must be >= 1 (got {binning!r}).")
        if self.initialized:
            self._send_roi(self._roi, value)
        self._binning = value

    def set_trigger_mode(self, mode: str) -> None:
        """Select ``internal``, ``external``, ``software``, ``external_start`` or ``external_exposure``."""
        if mode not in TRIGGER_MODES:
            raise ValueError(f"'trigger_mode' must be one of {', '.join(TRIGGER_MODES)} (got {mode!r}).")
        if self.initialized:
            self._send_trigger_mode(mode)
        self._trigger_mode = mode

    def _send_trigger_mode(self, mode: str) -> None:
        with self._errors("setting the trigger mode"):
            applied = self._cam.set_trigger_mode(TRIGGER_MODES[mode])
        if applied != TRIGGER_MODES[mode]:
            raise ComponentError(f"the camera did not accept trigger mode {mode!r} (it reports {applied!r}).")

    # --- acquisition ------------------------------------------------------------------
    def snap(self) -> NDArray[np.generic]:
        """Expose once (firing the trigger in software mode) and return the frame."""
        self._require_initialized()
        frame = np.asarray(self._do_snap())
        self._check_frame(frame)
        return frame

    def snap_with_info(self) -> tuple[NDArray[np.generic], FrameInfo]:
        """One frame and its :class:`FrameInfo`."""
        frame = self.snap()
        assert self.last_frame_info is not None
        return frame, self.last_frame_info

    def _do_snap(self) -> NDArray[np.generic]:
        [(frame, info)] = list(self._stream(1, mode="snap", buffer_frames=1))
        self.last_frame_info = info
        return frame

    def acquire_sequence(self, n_frames: int) -> Iterator[NDArray[np.generic]]:
        """Stream ``n_frames`` frames through the camera's ring buffer."""
        for frame, _ in self.acquire_sequence_with_info(n_frames):
            yield frame

    def acquire_sequence_with_info(self, n_frames: int) -> Iterator[tuple[NDArray[np.generic], FrameInfo]]:
        """Stream ``n_frames`` frames with their :class:`FrameInfo`; lost frames add to :attr:`dropped_frames`."""
        if n_frames < 0:
            raise ValueError(f"'n_frames' must be >= 0 (got {n_frames}).")
        self._require_initialized()
        if n_frames == 0:
            return
        for frame, info in self._stream(n_frames, mode="sequence", buffer_frames=self.params.buffer_frames):
            self._check_frame(frame)
            self.last_frame_info = info
            yield frame, info

    def _stream(self, n_frames: int, *, mode: str, buffer_frames: int) -> Iterator[tuple[NDArray[np.generic], FrameInfo]]:
        cam = self._cam
        with self._errors("starting the acquisition"):
            cam.start_acquisition(mode=mode, nframes=buffer_frames)
        try:
            delivered, expected_index = 0, 0
            while delivered < n_frames:
                with self._errors("acquiring"):
                    if self._trigger_mode == "software":
                        cam.call_command("SoftwareTrigger")
                    self._wait_for_frame()
                    frames, infos = cam.read_multiple_images(return_info=True)
                for frame, info in zip(frames, infos, strict=True):
                    if delivered == n_frames:
                        break
                    index = int(info.frame_index)
                    self.dropped_frames += max(index - expected_index, 0)
                    expected_index = index + 1
                    yield np.asarray(frame), FrameInfo(frame_index=index, timestamp_s=self._timestamp_s(info))
                    delivered += 1
        finally:
            with self._errors("stopping the acquisition"):
                cam.stop_acquisition()

    def _timestamp_s(self, info: Any) -> float:
        return float(info.timestamp_dev) / self.timestamp_clock_hz

    def _wait_for_frame(self) -> None:
        timeout_s = self.params.frame_timeout_ms / 1000.0
        try:
            self._cam.wait_for_frame(since="lastread", nframes=1, timeout=timeout_s)
        except self._cam.TimeoutError as exc:
            hint = "; is the external trigger connected and running?" if self._trigger_mode.startswith("external") else ""
            raise ComponentError(
                f"{self.vendor} camera {self.params.camera_index}: no frame within {self.params.frame_timeout_ms:g} ms "
                f"(trigger mode {self._trigger_mode!r}){hint}"
            ) from exc

    def _check_frame(self, frame: NDArray[np.generic]) -> None:
        if frame.shape != self.frame_shape_px:
            raise RuntimeError(f"{type(self).__name__} returned a frame of shape {frame.shape}; the ROI "
                               f"{self.roi} with binning {self._binning} needs {self.frame_shape_px}.")
