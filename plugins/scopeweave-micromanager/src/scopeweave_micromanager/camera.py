"""A Micro-Manager camera (C++ adapter or Python device) through ``UniMMCore``.

Snaps go through ``snapImage``/``getImage``; sequences stream through the
core's circular buffer (``startSequenceAcquisition``/``popNextImage``).  The
sensor size, and unless given the pixel size and bit depth, are read from the
core when the camera starts; binning is whatever the configuration sets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ComponentError
from scopeweave.kinds import Camera, Roi
from scopeweave_micromanager import validators
from scopeweave_micromanager.link import DeviceLink

__all__ = ["MMCamera", "MMCameraParams"]

_POLL_S = 0.0005


@attrs.frozen(kw_only=True)
class MMCameraParams:
    """Parameters of the ``micromanager`` camera.

    Attributes
    ----------
    config_path
        Micro-Manager configuration file (``.cfg``); ``#py`` lines load Python
        devices.  Components naming the same file share one core.
    device
        Camera label; empty uses the configuration's camera (``Core-Camera``).
    mm_path
        Micro-Manager folder holding the C++ device adapters; empty uses
        ``MICROMANAGER_PATH`` or pymmcore-plus' install location.
    exposure_ms
        Exposure time, applied when the camera starts.
    roi_px
        ``(x, y, width, height)`` in sensor pixels; empty uses the full sensor.
    pixel_size_um
        Pixel size in the sample plane; empty reads the configuration's
        pixel-size calibration (``PixelSize_um``).
    bit_depth
        Digitiser depth; empty asks the core.
    sequence_interval_ms
        Requested interval between frames of a sequence (0: as fast as the
        camera runs).
    frame_timeout_ms
        Longest wait for one frame of a sequence before an error.
    """

    config_path: str = attrs.field(validator=validators.config_path)
    device: str | None = None
    mm_path: str | None = None
    exposure_ms: float = attrs.field(default=10.0, validator=validators.positive)
    roi_px: tuple[int, int, int, int] | None = attrs.field(default=None, validator=validators.roi_px)
    pixel_size_um: float | None = attrs.field(default=None, validator=validators.optional_positive)
    bit_depth: int | None = attrs.field(default=None, validator=validators.bit_depth)
    sequence_interval_ms: float = attrs.field(default=0.0, validator=validators.non_negative)
    frame_timeout_ms: float = attrs.field(default=5000.0, validator=validators.positive)


class MMCamera(Camera):
    """A camera of a Micro-Manager configuration."""

    def __init__(self, params: MMCameraParams) -> None:
        # The sensor size is read from the core when the camera starts.
        super().__init__(exposure_ms=params.exposure_ms, sensor_shape_px=(1, 1))
        self.params = params
        self.link = DeviceLink(config_path=params.config_path, mm_path=params.mm_path, device=params.device,
                               role="camera")
        self._sensor_known = False
        self._pixel_size_um = params.pixel_size_um
        self._bit_depth = params.bit_depth
        self.device_exposure_ms = math.nan

    # --- properties -------------------------------------------------------------
    def _require_sensor(self) -> None:
        if not self._sensor_known:
            raise RuntimeError("MMCamera reads its sensor size from Micro-Manager; call initialize() first.")

    @property
    def sensor_shape_px(self) -> tuple[int, int]:
        """``(height, width)`` of the full frame (known once initialised)."""
        self._require_sensor()
        return self._sensor_shape_px

    @property
    def roi(self) -> Roi:
        """The current region of interest."""
        self._require_sensor()
        return self._roi

    @property
    def pixel_size_um(self) -> float:
        if self._pixel_size_um is None:
            raise RuntimeError("the pixel size is read from the Micro-Manager configuration; call initialize() first "
                               "or set pixel_size_um.")
        return self._pixel_size_um

    @property
    def bit_depth(self) -> int:
        if self._bit_depth is None:
            raise RuntimeError("the bit depth is read from Micro-Manager; call initialize() first.")
        return self._bit_depth

    # --- lifecycle ----------------------------------------------------------------
    def _do_initialize(self) -> None:
        link = self.link
        link.open()
        try:
            with link.calls("reading the sensor"):
                self._select()
                link.core.clearROI()
                self._sensor_shape_px = (int(link.core.getImageHeight()), int(link.core.getImageWidth()))
                pixel_size_um = float(link.core.getPixelSizeUm())
                bit_depth = int(link.core.getImageBitDepth())
            self._sensor_known = True
            if self._pixel_size_um is None:
                if not pixel_size_um > 0:
                    raise ComponentError(
                        f"Micro-Manager config {self.params.config_path!r} defines no pixel size for the current "
                        "state; add a PixelSize_um calibration or set pixel_size_um."
                    )
                self._pixel_size_um = pixel_size_um
            if self._bit_depth is None:
                self._bit_depth = bit_depth
            self._roi = self._initial_roi()
            super()._do_initialize()
        except BaseException:
            link.close()
            raise

    def _initial_roi(self) -> Roi:
        if self.params.roi_px is None:
            return Roi.full(self._sensor_shape_px)
        x, y, width, height = self.params.roi_px
        roi = Roi(x_px=x, y_px=y, width_px=width, height_px=height)
        if not roi.fits(self._sensor_shape_px):
            raise ComponentError(f"roi_px {self.params.roi_px} lies outside the {self._sensor_shape_px[1]} x "
                                 f"{self._sensor_shape_px[0]} px frame of camera {self.link.label!r}.")
        return roi

    def _do_shutdown(self) -> None:
        try:
            with self.link.calls("stopping the sequence"):
                if self.link.core.isSequenceRunning(self.link.label):
                    self.link.core.stopSequenceAcquisition(self.link.label)
        finally:
            self.link.close()

    def _select(self) -> None:
        """Make this camera the core's current camera (snaps use the current one)."""
        if self.link.core.getCameraDevice() != self.link.label:
            self.link.core.setCameraDevice(self.link.label)

    # --- settings ---------------------------------------------------------------------
    def _apply_exposure_ms(self, exposure_ms: float) -> None:
        link = self.link
        with link.calls("setting the exposure"):
            link.core.setExposure(link.label, exposure_ms)
            self.device_exposure_ms = float(link.core.getExposure(link.label))

    def _apply_roi(self, roi: Roi) -> None:
        link = self.link
        requested = (roi.x_px, roi.y_px, roi.width_px, roi.height_px)
        with link.calls("setting the ROI"):
            applied = self._send_roi(roi)
        if applied != requested:
            with link.calls("restoring the ROI"):
                self._send_roi(self._roi)
            raise ValueError(f"'roi' {roi} is not supported by camera {link.label!r}: it would apply "
                             f"(x, y, width, height) = {applied}.")

    def _send_roi(self, roi: Roi) -> tuple[int, ...]:
        """Set the ROI on the core (the full frame clears it) and return what the camera applied."""
        core, label = self.link.core, self.link.label
        self._select()
        if roi == Roi.full(self._sensor_shape_px):
            core.clearROI()
        else:
            core.setROI(label, roi.x_px, roi.y_px, roi.width_px, roi.height_px)
        return tuple(int(v) for v in core.getROI(label))

    # --- acquisition ------------------------------------------------------------------
    def _do_snap(self) -> NDArray[np.generic]:
        link = self.link
        with link.calls("snapping"):
            self._select()
            link.core.snapImage()
            return np.array(link.core.getImage(), copy=True)

    def acquire_sequence(self, n_frames: int) -> Iterator[NDArray[np.generic]]:
        """Stream ``n_frames`` frames through the core's circular buffer."""
        if n_frames < 0:
            raise ValueError(f"'n_frames' must be >= 0 (got {n_frames}).")
        self._require_initialized()
        if n_frames == 0:
            return
        link, core = self.link, self.link.core
        with link.calls("starting a sequence"):
            self._select()
            core.startSequenceAcquisition(link.label, n_frames, self.params.sequence_interval_ms, True)
        try:
            delivered = 0
            deadline = time.monotonic() + self.params.frame_timeout_ms / 1000.0
            while delivered < n_frames:
                with link.calls("reading the sequence"):
                    frame = np.array(core.popNextImage(), copy=True) if core.getRemainingImageCount() > 0 else None
                    stopped = frame is None and not core.isSequenceRunning(link.label)
                    stopped = stopped and core.getRemainingImageCount() == 0
                if frame is not None:
                    if frame.shape != self.roi.shape_px:
                        raise RuntimeError(f"camera {link.label!r} returned a frame of shape {frame.shape}; "
                                           f"the ROI needs {self.roi.shape_px}.")
                    delivered += 1
                    deadline = time.monotonic() + self.params.frame_timeout_ms / 1000.0
                    yield frame
                elif stopped:
                    raise ComponentError(f"camera {link.label!r} stopped after {delivered} of {n_frames} frames.")
                elif time.monotonic() > deadline:
                    raise ComponentError(f"camera {link.label!r}: no frame within {self.params.frame_timeout_ms:g} ms "
                                         f"({delivered} of {n_frames} received).")
                else:
                    time.sleep(_POLL_S)
        finally:
            with link.calls("stopping the sequence"):
                if core.isSequenceRunning(link.label):
                    core.stopSequenceAcquisition(link.label)
