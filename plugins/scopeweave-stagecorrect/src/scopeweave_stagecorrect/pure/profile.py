"""The learned correction profile of one microscope / objective / model (the seed's correction matrix).

Immutable value objects with a JSON form (``to_dict`` / ``profile_from_dict``);
reading validates every field and names the bad one.  Standard library only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "THERMAL_STATES",
    "Affine",
    "Offset",
    "Profile",
    "ProfileFormatError",
    "Thermal",
    "profile_from_dict",
]

#: Thermal states a session may declare; ``unknown`` is treated as ``cold`` (the seed's conservative choice).
THERMAL_STATES = ("cold", "preheated", "unknown")


class ProfileFormatError(ValueError):
    """A profile mapping has a missing or invalid field; ``path`` names it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message


@dataclass(frozen=True)
class Affine:
    """The stage matrix ``[[scale_x, -skew_xy], [skew_yx, scale_y]]`` (metadata -> true).

    Attributes
    ----------
    scale_x, scale_y
        Travel scale per axis (1.03265 = 3.265 % under-travel in the metadata).
    skew_xy, skew_yx
        Cross-talk terms in the seed's sign convention (equal values: a rotation).
    evidence
        Confidence-weighted number of tiles behind the current values (decayed).
    """

    scale_x: float = 1.0
    scale_y: float = 1.0
    skew_xy: float = 0.0
    skew_yx: float = 0.0
    evidence: float = 0.0


@dataclass(frozen=True)
class Offset:
    """One state-dependent offset (a LUT entry, or a backlash term), in pixels.

    Attributes
    ----------
    x_px, y_px
        The offset.
    evidence
        Confidence-weighted number of tiles behind it (decayed by the learning rate).
    confidence
        The seed's confidence, built by ``confidence_step`` per session that
        observed it (first-move entries are blended by it).
    n_samples
        Tiles observed in total.
    """

    x_px: float = 0.0
    y_px: float = 0.0
    evidence: float = 0.0
    confidence: float = 0.0
    n_samples: int = 0


@dataclass(frozen=True)
class Thermal:
    """Thermal drift: the drift rate decays by ``decay_per_tile`` each tile.

    The offset of tile ``i`` is ``rate * (1 + d + d**2 + ... + d**(i-1))``;
    ``decay_per_tile = 1`` is a constant drift.

    Attributes
    ----------
    drift_x_px_per_tile, drift_y_px_per_tile
        Drift rate at the first tile.
    decay_per_tile
        Decay of the rate per tile (the seed's ``thermal_decay_rate``).
    evidence
        Confidence-weighted number of tiles behind the values.
    """

    drift_x_px_per_tile: float = 0.0
    drift_y_px_per_tile: float = 0.0
    decay_per_tile: float = 0.95
    evidence: float = 0.0

    def offset_px(self, tile_index: int) -> tuple[float, float]:
        """Drift offset of tile ``tile_index`` relative to tile 0."""
        tau = thermal_tau(tile_index, self.decay_per_tile)
        return self.drift_x_px_per_tile * tau, self.drift_y_px_per_tile * tau


def thermal_tau(tile_index: int, decay: float) -> float:
    """``1 + d + ... + d**(i-1)``: accumulated drift time of tile ``i`` in units of the first step."""
    if tile_index <= 0:
        return 0.0
    if abs(1.0 - decay) < 1e-12:
        return float(tile_index)
    return (1.0 - decay**tile_index) / (1.0 - decay)


@dataclass(frozen=True)
class Profile:
    """Everything a corrector learned for one ``(microscope, objective, model)``.

    Attributes
    ----------
    model
        ``"lut-affine"`` or ``"backlash-state"``.
    microscope, objective
        The key the profile is stored under.
    preset
        The preset the profile started from.
    pixel_size_um
        Pixel size the pixel offsets refer to.
    affine
        Scale and skew.
    offsets
        State-dependent offsets by key (LUT masks as strings, or backlash terms).
    thermal
        Drift terms by thermal state (``cold``, ``preheated``).
    settings
        Classification and learning settings in force at the last update.
    num_sessions
        Learning sessions so far.
    last_updated
        ISO 8601 time of the last update ('' if never).
    dataset_size
        Tiles learned from in total.
    residual_rms_px, residual_max_px
        Residual of the corrected positions against the registered ones in the
        last learning session (``None`` before any learning).
    history
        One summary per learning session (the latest 50).
    """

    model: str
    microscope: str = "default"
    objective: str = "default"
    preset: str = ""
    pixel_size_um: float = 0.345
    affine: Affine = field(default_factory=Affine)
    offsets: Mapping[str, Offset] = field(default_factory=dict)
    thermal: Mapping[str, Thermal] = field(default_factory=lambda: {"cold": Thermal(), "preheated": Thermal()})
    settings: Mapping[str, Any] = field(default_factory=dict)
    num_sessions: int = 0
    last_updated: str = ""
    dataset_size: int = 0
    residual_rms_px: float | None = None
    residual_max_px: float | None = None
    history: tuple[Mapping[str, Any], ...] = ()

    def usable_offset(self, key: str) -> Offset | None:
        """The offset applied for ``key``: preset values count only until this microscope's first session."""
        offset = self.offsets.get(key)
        if offset is None or (self.num_sessions > 0 and offset.evidence <= 0):
            return None
        return offset

    def thermal_for(self, thermal_state: str) -> Thermal:
        """The drift terms used for a session in ``thermal_state``."""
        return self.thermal["preheated" if thermal_state == "preheated" else "cold"]

    def with_thermal(self, thermal_state: str, value: Thermal) -> Profile:
        """A copy with the drift terms of ``thermal_state`` replaced."""
        key = "preheated" if thermal_state == "preheated" else "cold"
        return replace(self, thermal={**self.thermal, key: value})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "model": self.model,
            "microscope": self.microscope,
            "objective": self.objective,
            "preset": self.preset,
            "pixel_size_um": self.pixel_size_um,
            "affine": _asdict(self.affine),
            "offsets": {key: _asdict(value) for key, value in sorted(self.offsets.items(), key=_offset_sort)},
            "thermal": {key: _asdict(value) for key, value in self.thermal.items()},
            "settings": dict(self.settings),
            "num_sessions": self.num_sessions,
            "last_updated": self.last_updated,
            "dataset_size": self.dataset_size,
            "residual_rms_px": self.residual_rms_px,
            "residual_max_px": self.residual_max_px,
            "history": [dict(item) for item in self.history],
        }


def _offset_sort(item: tuple[str, Offset]) -> tuple[int, int, str]:
    key = item[0]
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def _asdict(value: Affine | Offset | Thermal) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__dataclass_fields__}


# ---------------------------------------------------------------------------------------------
# Reading


def _number(data: Mapping[str, Any], key: str, path: str, default: float | None = None) -> float:
    if key not in data:
        if default is None:
            raise ProfileFormatError(f"{path}.{key}", "required field missing")
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProfileFormatError(f"{path}.{key}", f"expected a finite number, got {value!r}")
    return float(value)


def _optional_number(data: Mapping[str, Any], key: str, path: str) -> float | None:
    if data.get(key) is None:
        return None
    return _number(data, key, path)


def _integer(data: Mapping[str, Any], key: str, path: str, default: int = 0) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProfileFormatError(f"{path}.{key}", f"expected a non-negative integer, got {value!r}")
    return value


def _text(data: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
    if key not in data:
        if default is None:
            raise ProfileFormatError(f"{path}.{key}", "required field missing")
        return default
    value = data[key]
    if not isinstance(value, str):
        raise ProfileFormatError(f"{path}.{key}", f"expected a string, got {value!r}")
    return value


def _table(data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise ProfileFormatError(f"{path}.{key}", f"expected an object, got {type(value).__name__}")
    return value


def _confidence(data: Mapping[str, Any], path: str) -> float:
    value = _number(data, "confidence", path, 0.0)
    if not 0.0 <= value <= 1.0:
        raise ProfileFormatError(f"{path}.confidence", f"must lie in [0, 1], got {value}")
    return value


def _evidence(data: Mapping[str, Any], path: str) -> float:
    value = _number(data, "evidence", path, 0.0)
    if value < 0:
        raise ProfileFormatError(f"{path}.evidence", f"must be >= 0, got {value}")
    return value


def profile_from_dict(data: Mapping[str, Any], *, path: str = "$") -> Profile:
    """Read and validate a profile written by :meth:`Profile.to_dict`.

    Raises
    ------
    ProfileFormatError
        Naming the first bad field (``$.offsets.9.x_px: expected a finite number``).
    """
    if not isinstance(data, Mapping):
        raise ProfileFormatError(path, f"expected an object, got {type(data).__name__}")
    model = _text(data, "model", path)
    if model not in ("lut-affine", "backlash-state"):
        raise ProfileFormatError(f"{path}.model", f"unknown model {model!r} (lut-affine, backlash-state)")
    a = _table(data, "affine", path)
    affine = Affine(
        scale_x=_number(a, "scale_x", f"{path}.affine", 1.0),
        scale_y=_number(a, "scale_y", f"{path}.affine", 1.0),
        skew_xy=_number(a, "skew_xy", f"{path}.affine", 0.0),
        skew_yx=_number(a, "skew_yx", f"{path}.affine", 0.0),
        evidence=_evidence(a, f"{path}.affine"),
    )
    for name in ("scale_x", "scale_y"):
        if not 0.5 < getattr(affine, name) < 2.0:
            raise ProfileFormatError(f"{path}.affine.{name}", f"must lie in (0.5, 2), got {getattr(affine, name)}")
    offsets: dict[str, Offset] = {}
    for key, raw in _table(data, "offsets", path).items():
        where = f"{path}.offsets.{key}"
        if not isinstance(raw, Mapping):
            raise ProfileFormatError(where, f"expected an object, got {type(raw).__name__}")
        offsets[str(key)] = Offset(
            x_px=_number(raw, "x_px", where),
            y_px=_number(raw, "y_px", where),
            evidence=_evidence(raw, where),
            confidence=_confidence(raw, where),
            n_samples=_integer(raw, "n_samples", where),
        )
    thermal = {"cold": Thermal(), "preheated": Thermal()}
    for key, raw in _table(data, "thermal", path).items():
        where = f"{path}.thermal.{key}"
        if key not in ("cold", "preheated"):
            raise ProfileFormatError(where, "thermal states are 'cold' and 'preheated'")
        if not isinstance(raw, Mapping):
            raise ProfileFormatError(where, f"expected an object, got {type(raw).__name__}")
        decay = _number(raw, "decay_per_tile", where, 0.95)
        if not 0.0 < decay <= 1.0:
            raise ProfileFormatError(f"{where}.decay_per_tile", f"must lie in (0, 1], got {decay}")
        thermal[key] = Thermal(
            drift_x_px_per_tile=_number(raw, "drift_x_px_per_tile", where, 0.0),
            drift_y_px_per_tile=_number(raw, "drift_y_px_per_tile", where, 0.0),
            decay_per_tile=decay,
            evidence=_evidence(raw, where),
        )
    pixel_size_um = _number(data, "pixel_size_um", path, 0.345)
    if pixel_size_um <= 0:
        raise ProfileFormatError(f"{path}.pixel_size_um", f"must be > 0, got {pixel_size_um}")
    history = data.get("history", [])
    if not isinstance(history, list) or not all(isinstance(item, Mapping) for item in history):
        raise ProfileFormatError(f"{path}.history", "expected a list of objects")
    return Profile(
        model=model,
        microscope=_text(data, "microscope", path, "default"),
        objective=_text(data, "objective", path, "default"),
        preset=_text(data, "preset", path, ""),
        pixel_size_um=pixel_size_um,
        affine=affine,
        offsets=offsets,
        thermal=thermal,
        settings=dict(_table(data, "settings", path)),
        num_sessions=_integer(data, "num_sessions", path),
        last_updated=_text(data, "last_updated", path, ""),
        dataset_size=_integer(data, "dataset_size", path),
        residual_rms_px=_optional_number(data, "residual_rms_px", path),
        residual_max_px=_optional_number(data, "residual_max_px", path),
        history=tuple(dict(item) for item in history),
    )
