"""Validators and the parameter interface shared by the pylablib cameras' params classes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import attrs

__all__ = ["PylablibCameraParams", "at_least", "bit_depth", "check_roi_divides_binning", "positive", "roi_px"]


class PylablibCameraParams(Protocol):
    """What :class:`~scopeweave_pylablib.camera.PylablibCamera` reads from its params (see ``OrcaParams``)."""

    @property
    def pixel_size_um(self) -> float: ...
    @property
    def camera_index(self) -> int: ...
    @property
    def exposure_ms(self) -> float: ...
    @property
    def roi_px(self) -> tuple[int, int, int, int] | None: ...
    @property
    def binning(self) -> int: ...
    @property
    def trigger_mode(self) -> str: ...
    @property
    def frame_timeout_ms(self) -> float: ...
    @property
    def buffer_frames(self) -> int: ...
    @property
    def bit_depth(self) -> int | None: ...


def positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    """attrs validator: ``value > 0``."""
    if not value > 0:
        raise ValueError(f"'{attribute.name}' must be > 0 (got {value!r}).")


def at_least(minimum: int) -> Callable[[object, attrs.Attribute[Any], int], None]:
    """attrs validator factory: ``value >= minimum``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
        if value < minimum:
            raise ValueError(f"'{attribute.name}' must be >= {minimum} (got {value!r}).")

    return check


def bit_depth(instance: object, attribute: attrs.Attribute[Any], value: int | None) -> None:
    """attrs validator: empty, or a digitiser depth from 8 to 32 bits."""
    if value is not None and not 8 <= value <= 32:
        raise ValueError(f"'{attribute.name}' must be between 8 and 32 when given (got {value!r}).")


def roi_px(instance: object, attribute: attrs.Attribute[Any], value: tuple[int, int, int, int] | None) -> None:
    """attrs validator: empty, or ``(x, y, width, height)`` with x, y >= 0 and width, height >= 1."""
    if value is not None:
        x, y, width, height = value
        if x < 0 or y < 0 or width < 1 or height < 1:
            raise ValueError(f"'{attribute.name}' must be (x, y, width, height) with x, y >= 0 and width, height >= 1 "
                             f"(got {value!r}).")


def check_roi_divides_binning(params: PylablibCameraParams) -> None:
    """Refuse a ``roi_px`` whose width or height is not a multiple of ``binning`` (call in ``__attrs_post_init__``)."""
    if params.roi_px is not None and (params.roi_px[2] % params.binning or params.roi_px[3] % params.binning):
        raise ValueError(f"'roi_px' width and height must be multiples of 'binning' = {params.binning} "
                         f"(got {params.roi_px!r}).")
