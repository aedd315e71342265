"""The shared pylablib library: no registration, no eager pylablib import, SDK errors, the params base class.

The camera base itself runs under the contracts of ``scopeweave_pylablib.testing`` in the
tests of scopeweave-hamamatsu and scopeweave-andor, on faithful fakes of their pylablib classes.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from typing import Any, Literal

import attrs
import pytest
from pylablib.devices import DCAM
from scopeweave_pylablib import PYLABLIB_HINT, PylablibCamera, PylablibCameraParams, open_pylablib_camera

from scopeweave.errors import ComponentError
from scopeweave.kinds import Camera


def _open(index: int = 0) -> Any:
    return open_pylablib_camera("DCAM", "DCAMCamera", "DCAMError", index=index, camera_name="Test camera",
                                sdk_name="Test SDK", install_hint="Install the test SDK.")


def test_importing_the_library_imports_neither_pylablib_nor_pytest() -> None:
    code = "import sys, scopeweave_pylablib; print('pylablib' in sys.modules, 'pytest' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False False"


def test_it_is_a_library_that_registers_nothing() -> None:
    dist = importlib.metadata.distribution("scopeweave-pylablib")
    assert [ep for ep in dist.entry_points if ep.group == "scopeweave.plugins"] == []
    assert any(req.startswith("pylablib-lightweight") for req in dist.requires or [])


def test_the_camera_base_is_an_abstract_binning_camera_with_trigger_modes() -> None:
    assert issubclass(PylablibCamera, Camera)
    assert PylablibCamera.supports_binning
    assert {"_open", "_fire_software_trigger", "_timestamp_s"} <= PylablibCamera.__abstractmethods__
    assert all(hasattr(PylablibCamera, name) for name in ("trigger_modes", "trigger_mode", "set_trigger_mode"))


def test_opening_passes_the_index_and_returns_the_camera(monkeypatch: pytest.MonkeyPatch) -> None:
    class Opened:
        def __init__(self, idx: int) -> None:
            self.idx = idx

    monkeypatch.setattr(DCAM, "DCAMCamera", Opened)
    camera = _open(3)
    assert isinstance(camera, Opened)
    assert camera.idx == 3


def test_a_device_error_names_the_camera(monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(idx: int) -> None:
        raise DCAM.DCAMError("DCAMERR_BUSY")

    monkeypatch.setattr(DCAM, "DCAMCamera", busy)
    with pytest.raises(ComponentError, match=r"^Test camera 2 could not be opened: DCAMERR_BUSY$"):
        _open(2)


@pytest.mark.parametrize("error", [OSError("dcamapi.dll not found"), AttributeError("no dcamapi_init")])
def test_a_missing_sdk_names_the_sdk_and_how_to_install_it(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def missing(idx: int) -> None:
        raise error

    monkeypatch.setattr(DCAM, "DCAMCamera", missing)
    with pytest.raises(ComponentError, match=r"^Test SDK is not available \(.*\)\. Install the test SDK\.$"):
        _open()


def test_missing_pylablib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pylablib", None)
    monkeypatch.setitem(sys.modules, "pylablib.devices", None)
    with pytest.raises(ComponentError, match=r"^pylablib is not installed \(.*\); install it with") as info:
        _open()
    assert str(info.value).endswith(PYLABLIB_HINT)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"pixel_size_um": 0.0}, "'pixel_size_um' must be > 0 (got 0.0)"),
        ({"camera_index": -1}, "'camera_index' must be >= 0 (got -1)"),
        ({"exposure_ms": 0.0}, "'exposure_ms' must be > 0 (got 0.0)"),
        ({"binning": 0}, "'binning' must be >= 1 (got 0)"),
        ({"frame_timeout_ms": -5.0}, "'frame_timeout_ms' must be > 0 (got -5.0)"),
        ({"buffer_frames": 1}, "'buffer_frames' must be >= 2 (got 1)"),
        ({"bit_depth": 6}, "'bit_depth' must be between 8 and 32 when given (got 6)"),
        ({"roi_px": (0, -1, 8, 8)}, "'roi_px' must be (x, y, width, height) with x, y >= 0"),
        ({"roi_px": (0, 0, 8, 0)}, "width, height >= 1 (got (0, 0, 8, 0))"),
        ({"roi_px": (0, 0, 9, 8), "binning": 2}, "'roi_px' width and height must be multiples of 'binning' = 2"),
    ],
)
def test_params_validators(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as info:
        PylablibCameraParams(**{"pixel_size_um": 0.1, **fields})
    assert message in str(info.value)


def test_valid_params_pass() -> None:
    params = PylablibCameraParams(pixel_size_um=0.1, roi_px=(4, 4, 16, 8), binning=4, bit_depth=12)
    assert (params.roi_px, params.binning, params.bit_depth) == ((4, 4, 16, 8), 4, 12)


def test_params_base_is_frozen_keyword_only_and_needs_the_pixel_size() -> None:
    fields = attrs.fields(PylablibCameraParams)
    assert all(field.kw_only for field in fields)
    assert [field.name for field in fields if field.default is attrs.NOTHING] == ["pixel_size_um"]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        PylablibCameraParams(pixel_size_um=0.1).binning = 2  # type: ignore[misc]


def test_a_vendor_subclass_narrows_the_trigger_mode_and_keeps_the_rest() -> None:
    @attrs.frozen(kw_only=True)
    class VendorParams(PylablibCameraParams):
        trigger_mode: Literal["internal", "edge"] = "internal"

    params = VendorParams(pixel_size_um=0.1, trigger_mode="edge", buffer_frames=4)
    assert isinstance(params, PylablibCameraParams)
    assert (params.trigger_mode, params.buffer_frames) == ("edge", 4)
    attrs.resolve_types(VendorParams)
    assert attrs.fields(VendorParams).trigger_mode.type == Literal["internal", "edge"]
    with pytest.raises(ValueError, match="'roi_px' width and height must be multiples of 'binning' = 2"):
        VendorParams(pixel_size_um=0.1, roi_px=(0, 0, 9, 8), binning=2)
