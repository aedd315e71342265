"""Clear errors when Micro-Manager, its adapters, the config file or pymmcore-plus are missing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scopeweave_micromanager import CORES, MMCamera, MMCameraParams, MMFocusParams, MMFocusStage

from scopeweave.errors import ComponentError
from scopeweave.testing import RegistrationContract


def _camera(config: Path | str, **overrides: Any) -> MMCamera:
    return MMCamera(MMCameraParams(config_path=str(config), pixel_size_um=0.1, **overrides))


def test_missing_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ComponentError, match=rf"config 'absent.cfg' not found .*working directory {tmp_path}"):
        _camera("absent.cfg").initialize()
    assert len(CORES) == 0


def test_cpp_adapters_without_micromanager(tmp_path: Path) -> None:
    config = tmp_path / "demo.cfg"
    config.write_text("Device,Camera,DemoCamera,DCam\nProperty,Core,Initialize,1\nProperty,Core,Camera,Camera\n")
    with pytest.raises(ComponentError) as info:
        _camera(config).initialize()
    message = str(info.value)
    assert f"Micro-Manager config '{config}' could not be loaded" in message
    assert "'DemoCamera' is not a known Micro-manager DeviceAdapter" in message
    assert "set mm_path (or the MICROMANAGER_PATH environment variable)" in message
    assert "`mmcore install`" in message
    assert len(CORES) == 0


def test_python_device_class_missing(tmp_path: Path) -> None:
    config = tmp_path / "bad.cfg"
    config.write_text("#py pyDevice,Cam,scopeweave_mm_testdevices,NoSuchCamera\nProperty,Core,Initialize,1\n")
    with pytest.raises(ComponentError, match=r"at line 1: .*Could not find class 'NoSuchCamera'"):
        _camera(config).initialize()


def test_device_that_fails_to_initialize(make_microscope: Callable[..., Any]) -> None:
    scope = make_microscope(camera_class="BrokenCamera")
    with pytest.raises(ComponentError, match="Cam"):
        _camera(scope.config_path).initialize()
    assert len(CORES) == 0


def test_config_without_a_camera_role(tmp_path: Path) -> None:
    config = tmp_path / "no_role.cfg"
    config.write_text("#py pyDevice,Cam,scopeweave_mm_testdevices,AstigmaticCamera\nProperty,Core,Initialize,1\n")
    with pytest.raises(ComponentError, match=r"assigns no camera \(Core-Camera\); set 'device' to one of: Cam"):
        _camera(config).initialize()
    with _camera(config, device="Cam") as camera:
        assert camera.snap().shape == (48, 64)


def test_mm_path_must_be_a_folder_and_agree(microscope: Any, tmp_path: Path) -> None:
    with pytest.raises(ComponentError, match="mm_path .* is not a folder"):
        _camera(microscope.config_path, mm_path=str(tmp_path / "absent")).initialize()
    other = tmp_path / "mm"
    other.mkdir()
    with _camera(microscope.config_path, mm_path=str(other)):
        stage = MMFocusStage(MMFocusParams(config_path=str(microscope.config_path), limits_um=(0.0, 200.0)))
        with pytest.raises(ComponentError, match="must give the same mm_path"):
            stage.initialize()


def test_without_pymmcore_plus(microscope: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("pymmcore_plus", "pymmcore_plus.experimental", "pymmcore_plus.experimental.unicore"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ComponentError, match=r"pymmcore-plus with UniMMCore is not installed .*pip install"):
        _camera(microscope.config_path).initialize()


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_micromanager.plugin"
    forbidden_imports = ("pymmcore_plus", "pymmcore")
