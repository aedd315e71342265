"""Python device adapters for ``UniMMCore``: an astigmatic microscope inside a real CMMCore.

A configuration file loads them with ``#py pyDevice,<label>,scopeweave_mm_testdevices,<class>``.
The devices of one microscope share a :class:`World` chosen by their
``World`` property: the focus stage and the XY stage move the sample, the
camera renders an astigmatic bead (pixel-integrated Gaussian, Zhuang widths,
from ``scopeweave_psf``) at the defocus the focus stage sets.

Ground truth for the tests: the bead is in focus when the focus stage is at
the camera's ``FocusZ`` (um); moving the XY stage by ``+dx`` um moves the bead
by ``-dx / PIXEL_SIZE_UM`` px; counts are ``OFFSET_ADU`` plus photons, which
scale with the exposure; ``Noise`` 0 gives the noise-free expectation.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import numpy as np
from pymmcore_plus.experimental.unicore import SimpleCameraDevice, StageDevice, XYStageDevice, pymm_property
from scopeweave_psf import ZhuangAxis, render_gaussian

SENSOR_SHAPE_PX = (48, 64)
PIXEL_SIZE_UM = 0.1
OFFSET_ADU = 100.0
PHOTONS_PER_MS = 2000.0
BACKGROUND_PER_PX_PER_MS = 1.0
PSF_X = ZhuangAxis(w0_px=1.6, c_um=0.25, d_um=0.45)
PSF_Y = ZhuangAxis(w0_px=1.6, c_um=-0.25, d_um=0.45)
Z_TRAVEL_UM = (0.0, 300.0)


@attrs.define
class World:
    """What the devices of one simulated microscope share, and what they record."""

    z_um: float = 100.0
    xy_um: tuple[float, float] = (0.0, 0.0)
    z_commands: list[float] = attrs.field(factory=list)
    xy_commands: list[tuple[float, float]] = attrs.field(factory=list)
    renders: int = 0
    shutdowns: list[str] = attrs.field(factory=list)


WORLDS: dict[str, World] = {}


def spot_moments(frame: np.ndarray, background: float, half: int = 9) -> tuple[float, float, float, float]:
    """Centroid (x, y) and Gaussian widths (x, y) in px of the spot, from moments in a window around the peak."""
    image = frame.astype(float) - background
    peak_y, peak_x = np.unravel_index(np.argmax(image), image.shape)
    y0, x0 = max(peak_y - half, 0), max(peak_x - half, 0)
    window = image[y0:peak_y + half + 1, x0:peak_x + half + 1]
    yy, xx = np.indices(window.shape)
    total = window.sum()
    cx, cy = (window * xx).sum() / total, (window * yy).sum() / total
    var_x = (window * (xx - cx) ** 2).sum() / total - 1 / 12  # minus a pixel's own variance
    var_y = (window * (yy - cy) ** 2).sum() / total - 1 / 12
    return float(cx + x0), float(cy + y0), float(np.sqrt(var_x)), float(np.sqrt(var_y))


def world(name: str) -> World:
    """The world called ``name`` (created on first use)."""
    return WORLDS.setdefault(name, World())


class _InWorld:
    """The ``World`` property: which microscope a device belongs to."""

    _world_name = "default"

    @pymm_property
    def World(self) -> str:
        return self._world_name

    @World.setter
    def World(self, value: str) -> None:
        self._world_name = str(value)

    @property
    def world(self) -> World:
        return world(self._world_name)


class AstigmaticFocusStage(_InWorld, StageDevice):
    """A focus drive with travel ``Z_TRAVEL_UM``; it refuses targets beyond it."""

    def set_position_um(self, val: float) -> None:
        low, high = Z_TRAVEL_UM
        if not low <= val <= high:
            raise ValueError(f"target {val} um is beyond the travel {Z_TRAVEL_UM} um")
        self.world.z_commands.append(float(val))
        self.world.z_um = float(val)
        self.core.events.stagePositionChanged.emit(self.get_label(), self.world.z_um)

    def get_position_um(self) -> float:
        return self.world.z_um

    def home(self) -> None:
        self.set_position_um(0.0)

    def stop(self) -> None:
        """Moves are instantaneous."""

    def set_origin(self) -> None:
        self.world.z_um = 0.0

    def shutdown(self) -> None:
        self.world.shutdowns.append(self.get_label())


class SampleXYStage(_InWorld, XYStageDevice):
    """An XY stage moving the sample under the objective."""

    def set_position_um(self, x: float, y: float) -> None:
        self.world.xy_commands.append((float(x), float(y)))
        self.world.xy_um = (float(x), float(y))
        self.core.events.XYStagePositionChanged.emit(self.get_label(), x, y)

    def get_position_um(self) -> tuple[float, float]:
        return self.world.xy_um

    def set_origin_x(self) -> None:
        self.world.xy_um = (0.0, self.world.xy_um[1])

    def set_origin_y(self) -> None:
        self.world.xy_um = (self.world.xy_um[0], 0.0)

    def home(self) -> None:
        self.set_position_um(0.0, 0.0)

    def stop(self) -> None:
        """Moves are instantaneous."""

    def shutdown(self) -> None:
        self.world.shutdowns.append(self.get_label())


class AstigmaticCamera(_InWorld, SimpleCameraDevice):
    """A 64 x 48 px, 16-bit camera looking at one bead through a cylindrical lens."""

    def __init__(self) -> None:
        super().__init__()
        self._exposure_ms = 10.0
        self._focus_z_um = 100.0
        self._noise = 1
        self._rng = np.random.default_rng(0)

    @pymm_property
    def FocusZ(self) -> float:
        return self._focus_z_um

    @FocusZ.setter
    def FocusZ(self, value: float) -> None:
        self._focus_z_um = float(value)

    @pymm_property
    def Noise(self) -> int:
        return self._noise

    @Noise.setter
    def Noise(self, value: int) -> None:
        self._noise = int(value)

    def get_exposure(self) -> float:
        return self._exposure_ms

    def set_exposure(self, exposure: float) -> None:
        if not exposure > 0:
            raise ValueError(f"exposure must be > 0 ms (got {exposure})")
        self._exposure_ms = float(exposure)

    def sensor_shape(self) -> tuple[int, int]:
        return SENSOR_SHAPE_PX

    def dtype(self) -> str:
        return "uint16"

    def expected_counts(self) -> np.ndarray:
        """Noise-free counts of the full sensor for the current stage positions and exposure."""
        defocus_um = self.world.z_um - self._focus_z_um
        height, width = SENSOR_SHAPE_PX
        x_um, y_um = self.world.xy_um
        photons = render_gaussian(
            SENSOR_SHAPE_PX,
            x_px=(width - 1) / 2 - x_um / PIXEL_SIZE_UM,
            y_px=(height - 1) / 2 - y_um / PIXEL_SIZE_UM,
            sigma_x_px=float(PSF_X.width_px(defocus_um)),
            sigma_y_px=float(PSF_Y.width_px(defocus_um)),
            photons=PHOTONS_PER_MS * self._exposure_ms,
        )
        return OFFSET_ADU + photons + BACKGROUND_PER_PX_PER_MS * self._exposure_ms

    def sensor_counts(self) -> np.ndarray:
        """Counts of every sensor pixel (rounded, with shot noise unless ``Noise`` is 0)."""
        counts = self.expected_counts()
        if self._noise:
            counts = OFFSET_ADU + self._rng.poisson(counts - OFFSET_ADU)
        self.world.renders += 1
        return np.rint(counts)

    def snap(self, buffer: np.ndarray) -> Mapping[str, str]:
        buffer[:] = np.clip(self.sensor_counts(), 0, 65535).astype(np.uint16)
        return {"Defocus-um": f"{self.world.z_um - self._focus_z_um:.6f}"}

    def shutdown(self) -> None:
        self.world.shutdowns.append(self.get_label())


class BinningCamera(AstigmaticCamera):
    """Bins 1, 2 or 4 through the standard ``Binning`` property, as CCD and sCMOS adapters do.

    A binned pixel is the sum of its block of sensor pixels; the image size
    and the ROI are in binned pixels, and changing the binning clears the ROI
    (as Micro-Manager's DemoCamera does).
    """

    def __init__(self) -> None:
        super().__init__()
        self._binning = 1
        self.set_property_allowed_values("Binning", ["1", "2", "4"])  # text, as C++ adapters and config files have it

    def get_binning(self) -> int:
        return self._binning

    def set_binning(self, value: int) -> None:
        self._binning = int(value)
        self._roi = None

    def sensor_shape(self) -> tuple[int, int]:
        height, width = SENSOR_SHAPE_PX
        return (height // self._binning, width // self._binning)

    def snap(self, buffer: np.ndarray) -> Mapping[str, str]:
        b = self._binning
        height, width = self.sensor_shape()
        counts = self.sensor_counts()[: height * b, : width * b]
        buffer[:] = np.clip(counts.reshape(height, b, width, b).sum(axis=(1, 3)), 0, 65535).astype(np.uint16)
        return {"Defocus-um": f"{self.world.z_um - self._focus_z_um:.6f}"}


class BrokenCamera(SimpleCameraDevice):
    """A camera whose initialisation fails (the hardware is unplugged)."""

    def initialize(self) -> None:
        raise ConnectionError("camera unplugged")

    def get_exposure(self) -> float:
        return 10.0

    def set_exposure(self, exposure: float) -> None:
        """Never reached."""

    def sensor_shape(self) -> tuple[int, int]:
        return SENSOR_SHAPE_PX

    def dtype(self) -> str:
        return "uint16"

    def snap(self, buffer: np.ndarray) -> Mapping[str, str]:
        raise ConnectionError("camera unplugged")


class GridCamera(AstigmaticCamera):
    """A camera whose ROI snaps to a 4-pixel grid, as many sCMOS sub-arrays do."""

    def set_roi(self, x: int, y: int, width: int, height: int) -> None:
        super().set_roi(x - x % 4, y - y % 4, max(width - width % 4, 4), max(height - height % 4, 4))
