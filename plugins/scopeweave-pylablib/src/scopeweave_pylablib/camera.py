"""What every camera driven through a pylablib camera class does the same way.

pylablib's camera classes (``DCAM.DCAMCamera``, ``Andor.AndorSDK3Camera``, ...)
share one interface: exposure in seconds (``set_exposure`` returns the value
applied), ``set_roi(hstart, hend, vstart, vend, hbin, vbin)`` returning the
ROI applied, ``set_trigger_mode``, and ring-buffer acquisition
(``start_acquisition``, ``wait_for_frame``, ``read_multiple_images(return_info=True)``,
``stop_acquisition``).  :class:`PylablibCamera` implements the scopeweave
:class:`~scopeweave.kinds.Camera` on top of it; a vendor subclass names the
SDK, its trigger modes and its timestamp, and opens the camera.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ComponentError
from scopeweave.kinds import Camera, FrameInfo, Roi
from scopeweave_pylablib.params import PylablibCameraParams

__all__ = ["PylablibCamera"]


class PylablibCamera(Camera):
    """A :class:`~scopeweave.kinds.Camera` (with selectable trigger modes) behind a pylablib camera object.

    ROIs are in unbinned sensor pixels; a binned frame has shape
    ``(height // binning, width // binning)`` and :attr:`pixel_size_um` is
    the unbinned ``params.pixel_size_um`` times the binning.  A ROI or
    binning the camera would change (pylablib truncates to what the SDK
    allows) is refused with the values it would have applied, and the
    previous one is restored.
    """

    supports_binning = True

    #: Manufacturer, for error messages.
    vendor: ClassVar[str]
    #: scopeweave trigger mode -> pylablib trigger mode name.
    trigger_mode_names: ClassVar[Mapping[str, str]]
    #: SDK attribute holding the digitiser depth (e.g. ``"BIT PER CHANNEL"``).
    bit_depth_attribute: ClassVar[str]
    #: How to choose a ROI the camera accepts (ends the refusal message).
    roi_hint: ClassVar[str]

    def __init__(self, params: PylablibCameraParams) -> None:
        # The sensor size is read from the camera when it starts.
        super().__init__(exposure_ms=params.exposure_ms, binning=params.binning)
        self.params = params
        self._cam: Any = None
        self._trigger_mode = self._valid_trigger_mode(params.trigger_mode)
        self._bit_depth = params.bit_depth
        self._params_roi = params.roi_px
        self.device_info: dict[str, str] = {}
        self.dropped_frames = 0

    # --- vendor hooks ---------------------------------------------------------------
    @abc.abstractmethod
    def _open(self) -> Any:
        """Open and return the pylablib camera object."""

    def _prepare(self) -> None:
        """Vendor setup after opening, before the settings are sent (nothing by default)."""

    @abc.abstractmethod
    def _fire_software_trigger(self) -> None:
        """Fire one software trigger while acquiring."""

    @abc.abstractmethod
    def _timestamp_s(self, info: Any) -> float:
        """Seconds on the camera clock, from pylablib's frame info."""

    # --- properties -------------------------------------------------------------------
    @property
    def pixel_size_um(self) -> float:
        """Size of one pixel of the returned frames (binned) in the sample plane."""
        return self.params.pixel_size_um * self.binning

    @property
    def bit_depth(self) -> int:
        if self._bit_depth is None:
            raise RuntimeError("the bit depth is read from the camera; call initialize() first.")
        return self._bit_depth

    @property
    def trigger_modes(self) -> tuple[str, ...]:
        """Trigger modes of this camera (see :data:`scopeweave.kinds.STANDARD_TRIGGER_MODES`)."""
        return tuple(self.trigger_mode_names)

    @property
    def trigger_mode(self) -> str:
        """The current trigger mode."""
        return self._trigger_mode

    # --- lifecycle ------------------------------------------------------------------------
    def _do_initialize(self) -> None:
        self._cam = self._open()
        try:
            with self._errors("setup"):
                width, height = self._cam.get_detector_size()
                self._set_sensor_shape_px((int(height), int(width)))
                self._take_params_roi()
                self.device_info = {k: str(v) for k, v in self._cam.get_device_info()._asdict().items()}
                if self._bit_depth is None:
                    self._bit_depth = self._read_bit_depth(
                        self._cam.get_attribute_value(self.bit_depth_attribute, error_on_missing=False, default=None))
                self._prepare()
                self._send_trigger_mode(self._trigger_mode)
            super()._do_initialize()
        except BaseException:
            self._close()
            raise

    def _take_params_roi(self) -> None:
        """Select ``params.roi_px`` the first time the camera starts (later starts keep the current ROI)."""
        if self._params_roi is None:
            return
        x, y, width, height = self._params_roi
        roi = Roi(x_px=x, y_px=y, width_px=width, height_px=height)
        sensor_height, sensor_width = self.sensor_shape_px
        if not roi.fits(self.sensor_shape_px):
            raise ComponentError(f"roi_px {self._params_roi} lies outside the {sensor_width} x {sensor_height} px sensor.")
        self.set_roi(roi)
        self._params_roi = None

    def _read_bit_depth(self, value: Any) -> int:
        """The digitiser depth from the camera's value (``16``, ``"12 Bit (low noise)"``)."""
        text = str(value).split()[0] if value is not None else ""
        if not text.isdigit():
            raise ComponentError(f"the camera does not report its bit depth ({self.bit_depth_attribute} = {value!r}); "
                                 "set bit_depth.")
        return int(text)

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

    # --- settings -----------------------------------------------------------------------------
    def _apply_exposure_ms(self, exposure_ms: float) -> float:
        with self._errors("setting the exposure"):
            seconds = self._cam.set_exposure(exposure_ms / 1000.0)
        return float(seconds) * 1000.0

    def _apply_roi(self, roi: Roi) -> None:
        self._send_roi(roi, self.binning)

    def _apply_binning(self, binning: int) -> None:
        self._send_roi(self.roi, binning)

    def _send_roi(self, roi: Roi, binning: int) -> None:
        requested = (roi.x_px, roi.x_px + roi.width_px, roi.y_px, roi.y_px + roi.height_px, binning, binning)
        with self._errors("setting the ROI"):
            applied = tuple(int(v) for v in self._cam.set_roi(*requested))
        if applied != requested:
            previous, previous_binning = self.roi, self.binning
            with self._errors("restoring the ROI"):
                self._cam.set_roi(previous.x_px, previous.x_px + previous.width_px, previous.y_px,
                                  previous.y_px + previous.height_px, previous_binning, previous_binning)
            raise ValueError(
                f"'roi' {roi} with binning {binning} is not supported by the camera: it would apply "
                f"(hstart, hend, vstart, vend, hbin, vbin) = {applied}; {self.roi_hint}"
            )

    def _valid_trigger_mode(self, mode: str) -> str:
        if mode not in self.trigger_mode_names:
            raise ValueError(f"'trigger_mode' must be one of {', '.join(self.trigger_mode_names)} (got {mode!r}).")
        return mode

    def set_trigger_mode(self, mode: str) -> None:
        """Select one of :attr:`trigger_modes` (in ``software`` mode every frame fires one trigger)."""
        self._valid_trigger_mode(mode)
        if self.initialized:
            self._send_trigger_mode(mode)
        self._trigger_mode = mode

    def _send_trigger_mode(self, mode: str) -> None:
        name = self.trigger_mode_names[mode]
        with self._errors("setting the trigger mode"):
            applied = self._cam.set_trigger_mode(name)
        if applied != name:
            raise ComponentError(f"the camera did not accept trigger mode {mode!r} (it reports {applied!r}).")

    # --- acquisition -------------------------------------------------------------------------
    def _do_snap(self) -> NDArray[np.generic]:
        frame, _ = self._do_snap_with_info()
        return frame

    def _do_snap_with_info(self) -> tuple[NDArray[np.generic], FrameInfo]:
        [(frame, info)] = list(self._stream(1, mode="snap", buffer_frames=1))
        return frame, info

    def _do_acquire_sequence(self, n_frames: int) -> Iterator[tuple[NDArray[np.generic], FrameInfo]]:
        """Stream through the camera's ring buffer; lost frames add to :attr:`dropped_frames`."""
        return self._stream(n_frames, mode="sequence", buffer_frames=self.params.buffer_frames)

    def _stream(self, n_frames: int, *, mode: str, buffer_frames: int) -> Iterator[tuple[NDArray[np.generic], FrameInfo]]:
        cam = self._cam
        with self._errors("starting the acquisition"):
            cam.start_acquisition(mode=mode, nframes=buffer_frames)
        try:
            delivered, expected_index = 0, 0
            while delivered < n_frames:
                with self._errors("acquiring"):
                    if self._trigger_mode == "software":
                        self._fire_software_trigger()
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
