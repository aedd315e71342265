"""attrs validators shared by the parameter classes (they run with ``instance=None`` during session checks)."""

from __future__ import annotations

import math
from typing import Any

import attrs

__all__ = ["at_least_one", "bit_depth", "config_path", "limits_pair", "non_negative", "optional_positive", "positive",
           "roi_px", "xy_limits"]


def config_path(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError(f"'{attribute.name}' must name a Micro-Manager configuration file (got {value!r}).")


def positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def at_least_one(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"'{attribute.name}' must be >= 1 (got {value!r}).")


def optional_positive(instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 when given (got {value!r}).")


def non_negative(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"'{attribute.name}' must be >= 0 (got {value!r}).")


def bit_depth(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and not 1 <= value <= 32:
        raise ValueError(f"'{attribute.name}' must be between 1 and 32 when given (got {value!r}).")


def roi_px(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, int, int, int] | None) -> None:
    if value is not None:
        x, y, width, height = value
        if x < 0 or y < 0 or width < 1 or height < 1:
            raise ValueError(f"'{attribute.name}' must be (x, y, width, height) with x, y >= 0 and width, height >= 1 "
                             f"(got {value!r}).")


def _check_pair(name: str, pair: tuple[float, float]) -> None:
    low, high = pair
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"'{name}' must be finite with low < high (got {pair!r}).")


def limits_pair(instance: object, attribute: attrs.Attribute[Any], value: tuple[float, float]) -> None:
    _check_pair(attribute.name, value)


def xy_limits(instance: object, attribute: attrs.Attribute[Any],
              value: tuple[tuple[float, float], tuple[float, float]]) -> None:
    for axis, pair in zip("xy", value, strict=True):
        _check_pair(f"{attribute.name}[{axis}]", pair)
