"""Micro-Manager focus and XY stages.

The travel limits are ours: :class:`~scopeweave.kinds.Stage` refuses a target
outside ``limits_um`` before anything reaches the core, whatever the device
adapter would accept.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from scopeweave.kinds import Stage
from scopeweave_micromanager import validators
from scopeweave_micromanager.link import DeviceLink

__all__ = ["MMFocusParams", "MMFocusStage", "MMXYParams", "MMXYStage"]


@attrs.frozen(kw_only=True)
class MMFocusParams:
    """Parameters of the ``micromanager`` (focus) stage.

    Attributes
    ----------
    config_path
        Micro-Manager configuration file (``.cfg``); ``#py`` lines load Python
        devices.  Components naming the same file share one core.
    limits_um
        ``(low, high)`` travel allowed; moves outside are refused before they
        reach Micro-Manager.
    device
        Stage label; empty uses the configuration's focus device (``Core-Focus``).
    mm_path
        Micro-Manager folder holding the C++ device adapters; empty uses
        ``MICROMANAGER_PATH`` or pymmcore-plus' install location.
    """

    config_path: str = attrs.field(validator=validators.config_path)
    limits_um: tuple[float, float] = attrs.field(validator=validators.limits_pair)
    device: str | None = None
    mm_path: str | None = None


@attrs.frozen(kw_only=True)
class MMXYParams:
    """Parameters of the ``micromanager-xy`` stage.

    Attributes
    ----------
    config_path
        Micro-Manager configuration file; components naming the same file share one core.
    limits_um
        ``((x_low, x_high), (y_low, y_high))`` travel allowed; moves outside
        are refused before they reach Micro-Manager.
    device
        XY stage label; empty uses the configuration's XY stage (``Core-XYStage``).
    mm_path
        Micro-Manager folder holding the C++ device adapters.
    """

    config_path: str = attrs.field(validator=validators.config_path)
    limits_um: tuple[tuple[float, float], tuple[float, float]] = attrs.field(validator=validators.xy_limits)
    device: str | None = None
    mm_path: str | None = None


class MMFocusStage(Stage):
    """A Micro-Manager focus (Z) stage."""

    def __init__(self, params: MMFocusParams) -> None:
        super().__init__(axes=("z",), limits_um=(params.limits_um,))
        self.params = params
        self.link = DeviceLink(config_path=params.config_path, mm_path=params.mm_path, device=params.device,
                               role="focus")

    def _do_initialize(self) -> None:
        self.link.open()

    def _do_shutdown(self) -> None:
        self.link.close()

    def _do_get_position_um(self) -> Sequence[float]:
        with self.link.calls("reading the position"):
            return (float(self.link.core.getPosition(self.link.label)),)

    def _do_move_to_um(self, position_um: tuple[float, ...]) -> None:
        link = self.link
        with link.calls(f"moving to {position_um[0]:.4f} um"):
            link.core.setPosition(link.label, position_um[0])
            link.core.waitForDevice(link.label)


class MMXYStage(Stage):
    """A Micro-Manager XY stage."""

    def __init__(self, params: MMXYParams) -> None:
        super().__init__(axes=("x", "y"), limits_um=params.limits_um)
        self.params = params
        self.link = DeviceLink(config_path=params.config_path, mm_path=params.mm_path, device=params.device,
                               role="xy")

    def _do_initialize(self) -> None:
        self.link.open()

    def _do_shutdown(self) -> None:
        self.link.close()

    def _do_get_position_um(self) -> Sequence[float]:
        with self.link.calls("reading the position"):
            x, y = self.link.core.getXYPosition(self.link.label)
        return (float(x), float(y))

    def _do_move_to_um(self, position_um: tuple[float, ...]) -> None:
        link = self.link
        x, y = position_um
        with link.calls(f"moving to ({x:.4f}, {y:.4f}) um"):
            link.core.setXYPosition(link.label, x, y)
            link.core.waitForDevice(link.label)
