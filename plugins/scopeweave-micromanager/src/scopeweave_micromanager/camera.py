"""A Micro-Manager camera (C++ adapter or Python device) through ``UniMMCore``.

Snaps go through ``snapImage``/``getImage``; sequences stream through the
core's circular buffer (``startSequenceAcquisition``/``popNextImageAndMD``),
with the core's frame number and elapsed time as :class:`~scopeweave.kinds.FrameInfo`.
The sensor size, and unless given the pixel size and bit depth, are read from
the core at binning 1 when the camera starts; binning goes through the
camera's ``Binning`` property, and since Micro-Manager gives ROIs in binned
pixels, the ROI (unbinned sensor pixels here) is sent divided by the binning.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.errors import ComponentError
from scopeweave.kinds import Camera, FrameInfo, Roi
from scopeweave_micromanager import validators
from scopeweave_micromanager.link import DeviceLink

__all__ = ["MMCamera", "MMCameraParams"]

_POLL_S = 0.0005
_BINNING = "Binning"


def _binning_factor(value: str) -> int | None:
    """The factor of a ``Binning`` property value (``"2"`` or ``"2x2"``); ``None`` for asymmetric or odd values."""
    parts = str(value).lower().split("x")
    if all(p.strip().isdigit() for p in parts) and len({int(p) for p in parts}) == 1 and len(parts) <= 2:
        return int(parts[0])
    return None


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
        Exposure time, applied when the camera starts; the camera's
        ``exposure_ms`` then reports what the device accepted.
    roi_px
        ``(x, y, width, height)`` in unbinned sensor pixels; empty uses the
        full sensor.  With binning, x and y must be multiples of it too
        (Micro-Manager places ROIs in binned pixels).
    binning
        Binning factor, same on both axes, set through the camera's
        ``Binning`` property (``2`` or ``2x2``); 1 needs no such property.
    pixel_size_um
        Unbinned pixel size in the sample plane; empty reads the
        configuration's pixel-size calibration (``PixelSize_um``) at binning 1.
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
    binning: int = attrs.field(default=1, validator=validators.at_least_one)
    pixel_size_um: float | None = attrs.field(default=None, validator=validators.optional_positive)
    bit_depth: int | None = attrs.field(default=None, validator=validators.bit_depth)
    sequence_interval_ms: float = attrs.field(default=0.0, validator=validators.non_negative)
    frame_timeout_ms: float = attrs.field(default=5000.0, validator=validators.positive)


class MMCamera(Camera):
    """A camera of a Micro-Manager configuration."""

    supports_binning = True

    def __init__(self, params: MMCameraParams) -> None:
        # The sensor size is read from the core when the camera starts.
        super().__init__(exposure_ms=params.exposure_ms, binning=params.binning)
        self.params = params
        self.link = DeviceLink(config_path=params.config_path, mm_path=params.mm_path, device=params.device,
                               role="camera")
        self._unbinned_pixel_size_um = params.pixel_size_um
        self._bit_depth = params.bit_depth
        self._params_roi = params.roi_px

    # --- properties -------------------------------------------------------------
    @property
    def pixel_size_um(self) -> float:
        """Size of one pixel of the returned frames (binned) in the sample plane."""
        if self._unbinned_pixel_size_um is None:
            raise RuntimeError("the pixel size is read from the Micro-Manager configuration; call initialize() first "
                               "or set pixel_size_um.")
        return self._unbinned_pixel_size_um * self.binning

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
                self._unbin()
                link.core.clearROI()
                sensor_shape_px = (int(link.core.getImageHeight()), int(link.core.getImageWidth()))
                pixel_size_um = float(link.core.getPixelSizeUm())
                bit_depth = int(link.core.getImageBitDepth())
            self._set_sensor_shape_px(sensor_shape_px)
            if self._unbinned_pixel_size_um is None:
                if not pixel_size_um > 0:
                    raise ComponentError(
                        f"Micro-Manager config {self.params.config_path!r} defines no pixel size for the current "
                        "state; add a PixelSize_um calibration or set pixel_size_um."
                    )
                self._unbinned_pixel_size_um = pixel_size_um
            if self._bit_depth is None:
                self._bit_depth = bit_depth
            self._take_params_roi()
            super()._do_initialize()
        except BaseException:
            link.close()
            raise

    def _unbin(self) -> None:
        """Set binning 1 so the sensor size and pixel size are read unbinned."""
        if self._binning_value_now() in (None, 1):
            return
        one = self._binning_value(1)
        if not self._binning_settable() or one is None:
            raise ComponentError(f"camera {self.link.label!r} is binned by its configuration (Binning = "
                                 f"{self.link.core.getProperty(self.link.label, _BINNING)!r}) and cannot be set to 1.")
        self.link.core.setProperty(self.link.label, _BINNING, one)

    def _take_params_roi(self) -> None:
        """Select ``params.roi_px`` the first time the camera starts (later starts keep the current ROI)."""
        if self._params_roi is None:
            return
        x, y, width, height = self._params_roi
        roi = Roi(x_px=x, y_px=y, width_px=width, height_px=height)
        sensor_height, sensor_width = self.sensor_shape_px
        if not roi.fits(self.sensor_shape_px):
            raise ComponentError(f"roi_px {self._params_roi} lies outside the {sensor_width} x {sensor_height} px "
                                 f"frame of camera {self.link.label!r}.")
        self.set_roi(roi)
        self._params_roi = None

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
    def _apply_exposure_ms(self, exposure_ms: float) -> float:
        link = self.link
        with link.calls("setting the exposure"):
            link.core.setExposure(link.label, exposure_ms)
            return float(link.core.getExposure(link.label))

    def _binning_settable(self) -> bool:
        core, label = self.link.core, self.link.label
        return bool(core.hasProperty(label, _BINNING) and not core.isPropertyReadOnly(label, _BINNING))

    def _binning_value_now(self) -> int | None:
        """The camera's current binning factor (``None``: it has no Binning property)."""
        core, label = self.link.core, self.link.label
        return _binning_factor(core.getProperty(label, _BINNING)) if core.hasProperty(label, _BINNING) else None

    def _binning_value(self, binning: int) -> str | None:
        """The Binning property value meaning ``binning`` (``None``: the camera does not offer it)."""
        allowed = tuple(str(v) for v in self.link.core.getAllowedPropertyValues(self.link.label, _BINNING))
        if not allowed:
            return str(binning)
        return next((value for value in allowed if _binning_factor(value) == binning), None)

    def _apply_binning(self, binning: int) -> None:
        link, label = self.link, self.link.label
        with link.calls("reading the binning"):
            settable = self._binning_settable()
            current = self._binning_value_now()
            allowed = tuple(link.core.getAllowedPropertyValues(label, _BINNING)) if settable else ()
            value = self._binning_value(binning) if settable else None
            previous = self._binning_value(self.binning) if settable else None
        if not settable:
            if binning != (current or 1):
                raise ValueError(f"'binning' {binning} is not supported by camera {label!r}: it has no settable "
                                 f"Binning property.")
        elif value is None:
            raise ValueError(f"'binning' {binning} is not supported by camera {label!r}: it offers "
                             f"{', '.join(allowed)}.")
        else:
            with link.calls("setting the binning"):
                self._select()
                link.core.setProperty(label, _BINNING, value)
        try:
            self._send_roi(self.roi, binning)
        except ValueError:
            if previous is not None:
                with link.calls("restoring the binning"):
                    link.core.setProperty(label, _BINNING, previous)
                    self._write_roi(self.roi, self.binning)
            raise

    def _apply_roi(self, roi: Roi) -> None:
        self._send_roi(roi, self.binning)

    def _send_roi(self, roi: Roi, binning: int) -> None:
        """Send ``roi`` in binned pixels; refuse (restoring the current ROI) one the camera would change."""
        label = self.link.label
        if roi.x_px % binning or roi.y_px % binning:
            raise ValueError(f"'roi' {roi}: Micro-Manager places ROIs in binned pixels, so x and y must be multiples "
                             f"of the binning {binning}.")
        requested = (roi.x_px // binning, roi.y_px // binning, roi.width_px // binning, roi.height_px // binning)
        with self.link.calls("setting the ROI"):
            applied = self._write_roi(roi, binning)
        if applied != requested:
            with self.link.calls("restoring the ROI"):
                self._write_roi(self.roi, self.binning)
            pixels = "" if binning == 1 else f" (binned pixels, binning {binning})"
            raise ValueError(f"'roi' {roi} is not supported by camera {label!r}: it would apply "
                             f"(x, y, width, height) = {applied}{pixels}.")

    def _write_roi(self, roi: Roi, binning: int) -> tuple[int, ...]:
        """Set the ROI on the core (the full frame clears it) and return what the camera applied."""
        core, label = self.link.core, self.link.label
        self._select()
        if roi == Roi.full(self.sensor_shape_px):
            core.clearROI()
        else:
            core.setROI(label, roi.x_px // binning, roi.y_px // binning, roi.width_px // binning,
                        roi.height_px // binning)
        return tuple(int(v) for v in core.getROI(label))

    # --- acquisition ------------------------------------------------------------------
    def _do_snap(self) -> NDArray[np.generic]:
        link = self.link
        with link.calls("snapping"):
            self._select()
            link.core.snapImage()
            return np.array(link.core.getImage(), copy=True)

    def _do_acquire_sequence(self, n_frames: int) -> Iterator[tuple[NDArray[np.generic], FrameInfo]]:
        """Stream ``n_frames`` frames through the core's circular buffer."""
        link, core = self.link, self.link.core
        with link.calls("starting a sequence"):
            self._select()
            start_s = time.perf_counter()
            core.startSequenceAcquisition(link.label, n_frames, self.params.sequence_interval_ms, True)
        try:
            delivered = 0
            first_number: int | None = None
            deadline = time.monotonic() + self.params.frame_timeout_ms / 1000.0
            while delivered < n_frames:
                with link.calls("reading the sequence"):
                    popped = core.popNextImageAndMD() if core.getRemainingImageCount() > 0 else None
                    stopped = popped is None and not core.isSequenceRunning(link.label)
                    stopped = stopped and core.getRemainingImageCount() == 0
                if popped is not None:
                    image, metadata = popped
                    number = self._metadata_int(metadata, "ImageNumber", default=delivered)
                    first_number = number if first_number is None else first_number
                    elapsed_ms = self._metadata_float(metadata, "ElapsedTime-ms")
                    timestamp_s = time.perf_counter() if elapsed_ms is None else start_s + elapsed_ms / 1000.0
                    delivered += 1
                    deadline = time.monotonic() + self.params.frame_timeout_ms / 1000.0
                    yield (np.array(image, copy=True),
                           FrameInfo(frame_index=number - first_number, timestamp_s=timestamp_s))
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

    @staticmethod
    def _metadata_float(metadata: Any, key: str) -> float | None:
        """A number from the frame's metadata (``None`` when the camera does not provide it)."""
        try:
            return float(metadata[key])
        except (KeyError, TypeError, ValueError):
            return None

    @classmethod
    def _metadata_int(cls, metadata: Any, key: str, *, default: int) -> int:
        value = cls._metadata_float(metadata, key)
        return default if value is None else int(value)
