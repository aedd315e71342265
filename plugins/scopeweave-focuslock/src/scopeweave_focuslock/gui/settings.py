"""``autofocus_gui_settings.json``: what the GUI remembers between sessions.

The file holds the ROI, the control gains, the XY tracking settings, the
display LUT, the window geometry and the last calibration file.  It is
written atomically; a file that cannot be read or does not validate is
reported (with the ``$.path`` of every problem), kept beside as
``autofocus_gui_settings.json.corrupt`` and replaced by the defaults — the
GUI never fails to start because of it.  This module needs no Qt.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import attrs

from scopeweave.atomic import write_json_atomic
from scopeweave.structure import structure_table

__all__ = [
    "COLORMAPS",
    "FORMAT",
    "FORMAT_VERSION",
    "SETTINGS_FILE",
    "ControlSetting",
    "GuiSettings",
    "LutSetting",
    "RoiSetting",
    "TrackingSetting",
    "WindowSetting",
    "load_settings",
    "save_settings",
]

SETTINGS_FILE = "autofocus_gui_settings.json"
FORMAT = "scopeweave-focuslock-gui-settings"
FORMAT_VERSION = 1
#: Colour maps offered for the live image (names of ``pyqtgraph.colormap.get``).
COLORMAPS = ("gray", "viridis", "inferno", "magma", "plasma", "cividis")


def _non_negative_int(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def _roi_size(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 7:
        raise ValueError(f"'{attribute.name}' must be >= 7 px (got {value!r}).")


def _positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"'{attribute.name}' must be a finite number > 0 (got {value!r}).")


def _non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"'{attribute.name}' must be a finite number >= 0 (got {value!r}).")


def _fraction(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not (math.isfinite(value) and 0 < value <= 1):
        raise ValueError(f"'{attribute.name}' must be in (0, 1] (got {value!r}).")


def _levels(instance: object, attribute: attrs.Attribute[Any], value: tuple[float, float]) -> None:
    if len(value) != 2 or not all(math.isfinite(v) for v in value) or not value[0] < value[1]:
        raise ValueError(f"'{attribute.name}' must be [low, high] with finite low < high (got {list(value)!r}).")


def _colormap(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in COLORMAPS:
        raise ValueError(f"'{attribute.name}' must be one of {', '.join(COLORMAPS)} (got {value!r}).")


@attrs.frozen(kw_only=True)
class RoiSetting:
    """The lock ROI on the sensor.

    Attributes
    ----------
    x_px, y_px
        Top-left corner (sensor pixels).
    size_px
        Side of the square ROI.
    """

    x_px: int = attrs.field(validator=_non_negative_int)
    y_px: int = attrs.field(validator=_non_negative_int)
    size_px: int = attrs.field(validator=_roi_size)


@attrs.frozen(kw_only=True)
class ControlSetting:
    """The control gains set in the GUI (see :class:`~scopeweave_focuslock.lock.controller.LockSettings`).

    Attributes
    ----------
    kp, ki
        Proportional and integral gains.
    max_step_um
        Largest single Z move.
    command_deadband_um
        Smallest error that moves the stage.
    """

    kp: float = attrs.field(validator=_positive)
    ki: float = attrs.field(validator=_non_negative)
    max_step_um: float = attrs.field(validator=_positive)
    command_deadband_um: float = attrs.field(validator=_non_negative)


@attrs.frozen(kw_only=True)
class TrackingSetting:
    """XY ROI tracking (see :class:`~scopeweave_focuslock.lock.roi_tracking.TrackingSettings`).

    Attributes
    ----------
    enabled
        Whether the ROI follows the spot.
    track_gain, track_deadband_px, track_max_step_px
        Gain, deadband and largest ROI move per frame.
    """

    enabled: bool
    track_gain: float = attrs.field(validator=_fraction)
    track_deadband_px: float = attrs.field(validator=_non_negative)
    track_max_step_px: float = attrs.field(validator=_non_negative)


@attrs.frozen(kw_only=True)
class LutSetting:
    """Display lookup table of the live image.

    Attributes
    ----------
    auto_levels
        Follow each frame (0.5th to 99.9th percentile) instead of fixed levels.
    levels
        ``[low, high]`` counts mapped to the ends of the colour map.
    colormap
        One of :data:`COLORMAPS`.
    """

    auto_levels: bool = True
    levels: tuple[float, float] = attrs.field(default=(0.0, 1000.0), validator=_levels)
    colormap: str = attrs.field(default="viridis", validator=_colormap)


@attrs.frozen(kw_only=True)
class WindowSetting:
    """Window geometry.

    Attributes
    ----------
    geometry
        ``QWidget.saveGeometry()`` as base64 (empty: the default size).
    splitter_sizes
        Heights of the live area and the plots below it, px.
    tab
        The tab shown below the live view.
    """

    geometry: str = ""
    splitter_sizes: tuple[int, ...] = ()
    tab: str = "diagnostics"


@attrs.frozen(kw_only=True)
class GuiSettings:
    """Everything the GUI restores at the next start (``None``: not set yet, the session's values apply).

    Attributes
    ----------
    roi
        The lock ROI.
    control
        The control gains.
    tracking
        XY ROI tracking.
    lut
        The display LUT.
    window
        Window geometry.
    last_calibration_file
        The calibration CSV last accepted or saved.
    """

    roi: RoiSetting | None = None
    control: ControlSetting | None = None
    tracking: TrackingSetting | None = None
    lut: LutSetting = LutSetting()
    window: WindowSetting = WindowSetting()
    last_calibration_file: str | None = None


def _to_json(settings: GuiSettings) -> dict[str, Any]:
    return {"format": FORMAT, "version": FORMAT_VERSION, **attrs.asdict(settings)}


def save_settings(path: str | os.PathLike[str], settings: GuiSettings) -> Path:
    """Write ``settings`` to ``path`` atomically and return the path."""
    target = Path(path)
    write_json_atomic(target, _to_json(settings))
    return target


def _problems(text: str) -> tuple[GuiSettings | None, list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [f"not valid JSON ({exc})"]
    if not isinstance(data, dict):
        return None, [f"$: expected a JSON object, got {type(data).__name__}"]
    found = data.pop("format", None)
    version = data.pop("version", None)
    if found != FORMAT:
        return None, [f"$.format: expected {FORMAT!r}, got {found!r}"]
    if version != FORMAT_VERSION:
        return None, [f"$.version: this GUI reads version {FORMAT_VERSION}, got {version!r}"]
    settings, problems = structure_table(data, GuiSettings, "$")
    return settings, [str(problem) for problem in problems]


def load_settings(path: str | os.PathLike[str]) -> tuple[GuiSettings, str]:
    """Read the settings at ``path``.

    Returns the settings and a problem report: ``""`` when the file was read
    (or does not exist yet: the defaults), otherwise one line naming the file
    and every problem; the bad file is then moved to ``<name>.corrupt`` and the
    defaults are written in its place.
    """
    target = Path(path)
    if not target.exists():
        return GuiSettings(), ""
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        settings, problems = None, [f"cannot read the file ({exc})"]
    else:
        settings, problems = _problems(text)
    if settings is not None and not problems:
        return settings, ""
    backup = target.with_name(target.name + ".corrupt")
    try:
        os.replace(target, backup)
        kept = f"; the bad file was kept as {backup.name}"
    except OSError as exc:
        kept = f"; the bad file could not be moved aside ({exc})"
    defaults = GuiSettings()
    try:
        save_settings(target, defaults)
    except OSError as exc:
        kept += f"; the defaults could not be written ({exc})"
    return defaults, f"{target}: " + "; ".join(problems) + f" — using the defaults{kept}"
