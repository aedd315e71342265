"""The Nano-Drive stage against a fake Madlib library, a wrapper module and the simulation."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from scopeweave_mcl import InMemoryNanoDrive, MadlibError, NanoDriveParams, NanoDriveStage

from scopeweave.errors import ComponentError, StageLimitError
from scopeweave.testing import StageContract

THREE_AXES = {1: 100.0, 2: 100.0, 3: 200.0}
STEP_UM = 200.0 / 2**20  # 20-bit DAC over the 200 um Z range


def _stage(path: Path | None = None, **overrides: Any) -> NanoDriveStage:
    values: dict[str, Any] = {"limits_um": (0.0, 200.0), "settle_ms": 0.0, "backend": "dll"}
    if path is not None:
        values["dll_path"] = str(path)
    values.update(overrides)
    return NanoDriveStage(NanoDriveParams(**values))


class TestContractThroughLibrary(StageContract):
    position_tolerance_um = STEP_UM

    @pytest.fixture
    def stage(self, install_fake_madlib: Callable[..., Any]) -> NanoDriveStage:
        installed = install_fake_madlib((2001, THREE_AXES))
        return _stage(installed.path, limits_um=(10.0, 190.0))


class TestContractInMemory(StageContract):
    position_tolerance_um = STEP_UM

    @pytest.fixture
    def stage(self) -> NanoDriveStage:
        return NanoDriveStage(NanoDriveParams(limits_um=(0.0, 200.0), backend="memory", settle_ms=0.0))


def test_moves_go_through_madlib_with_c_types(install_fake_madlib: Callable[..., Any]) -> None:
    installed = install_fake_madlib((2001, THREE_AXES))
    with _stage(installed.path) as stage:
        assert installed.loaded_paths == [str(installed.path)]
        assert stage.source == f"library {installed.path}"
        assert stage.serial_number == 2001
        assert stage.calibrated_range_um == 200.0
        stage.move_to_um((123.456789,))
        (name, args) = installed.lib.calls[-1]
        assert name == "MCL_SingleWriteN"
        assert args[0] == pytest.approx(123.456789)
        assert args[1:] == (3, 1)
        expected = round(123.456789 / STEP_UM) * STEP_UM
        assert stage.position_um() == (pytest.approx(expected, abs=1e-12),)
    assert all(c.handle == 0 for c in installed.lib.controllers), "the handle must be released at shutdown"


def test_single_axis_controller_uses_axis_x(install_fake_madlib: Callable[..., Any]) -> None:
    installed = install_fake_madlib((2002, {1: 100.0}))
    with pytest.raises(MadlibError, match=r"MCL_INVALID_AXIS \(-7\).*axis 'x' \(1\)"):
        _stage(installed.path, limits_um=(0.0, 100.0)).initialize()
    assert installed.lib.controllers[0].handle == 0, "a failed start releases the controller"
    with _stage(installed.path, limits_um=(0.0, 100.0), axis="x") as stage:
        stage.move_to_um((42.0,))
        assert installed.lib.writes()[-1][1] == 1
        assert stage.position_um()[0] == pytest.approx(42.0, abs=100.0 / 2**20)


def test_limits_beyond_the_calibrated_range_are_refused(install_fake_madlib: Callable[..., Any]) -> None:
    installed = install_fake_madlib((2001, {1: 100.0, 2: 100.0, 3: 100.0}))
    with pytest.raises(ComponentError, match=r"exceed the calibrated range \[0, 100.0\] um"):
        _stage(installed.path, limits_um=(0.0, 150.0)).initialize()
    assert installed.lib.controllers[0].handle == 0


def test_our_limits_are_enforced_before_madlib_is_called(install_fake_madlib: Callable[..., Any]) -> None:
    installed = install_fake_madlib((2001, THREE_AXES))
    with _stage(installed.path, limits_um=(20.0, 80.0)) as stage:
        stage.move_to_um((50.0,))
        writes = len(installed.lib.writes())
        for bad in (150.0, 19.99, float("nan")):
            with pytest.raises(StageLimitError):
                stage.move_to_um((bad,))
        assert len(installed.lib.writes()) == writes
        assert stage.position_um()[0] == pytest.approx(50.0, abs=STEP_UM)


def test_select_controller_by_serial_and_leave_the_others_free(install_fake_madlib: Callable[..., Any]) -> None:
    installed = install_fake_madlib((1111, THREE_AXES), (2222, THREE_AXES))
    first, second = installed.lib.controllers
    with _stage(installed.path, serial_number=2222) as stage:
        assert stage.serial_number == 2222
        assert second.handle > 0
        assert first.handle == 0, "the controller grabbed on the way is released"
        stage.move_to_um((60.0,))
        assert second.positions_um[3] == pytest.approx(60.0, abs=STEP_UM)
        assert 3 not in first.positions_um
        with _stage(installed.path, serial_number=1111) as other:  # a second stage in the same process
            other.move_to_um((30.0,))
            assert first.positions_um[3] == pytest.approx(30.0, abs=STEP_UM)
            assert second.handle > 0, "opening the second stage must not release the first one's handle"
    assert first.handle == second.handle == 0


def test_unknown_serial_is_a_clear_error(install_fake_madlib: Callable[..., Any]) -> None:
    installed = install_fake_madlib((1111, THREE_AXES))
    with pytest.raises(ComponentError, match="serial number 4242"):
        _stage(installed.path, serial_number=4242).initialize()
    assert installed.lib.controllers[0].handle == 0


def test_no_free_controller(install_fake_madlib: Callable[..., Any]) -> None:
    installed = install_fake_madlib((1111, THREE_AXES))
    installed.lib.controllers[0].attached = False
    with pytest.raises(ComponentError, match=r"no free Mad City Labs Nano-Drive.*MCL_InitHandle returned 0"):
        _stage(installed.path).initialize()


def test_device_errors_reach_the_caller(install_fake_madlib: Callable[..., Any]) -> None:
    installed = install_fake_madlib((2001, THREE_AXES))
    with _stage(installed.path) as stage:
        installed.lib.controllers[0].attached = False
        with pytest.raises(MadlibError, match=r"MCL_SingleWriteN\(10.0000 um, axis 'z'\) failed: MCL_DEV_NOT_ATTACHED"):
            stage.move_to_um((10.0,))
        with pytest.raises(MadlibError, match="MCL_SingleReadN"):
            stage.position_um()


@pytest.fixture
def wrapper_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An importable Python wrapper exposing the Madlib functions (a 150 um Nano-Z, serial 3003)."""
    (tmp_path / "fake_mcl_wrapper.py").write_text(textwrap.dedent("""
        CALLS = []

        class NanoDriveWrapper:
            def __init__(self):
                self.owned = False
                self.z_um = 0.0

            def MCL_InitHandle(self):
                CALLS.append("init")
                if self.owned:
                    return 0
                self.owned = True
                return 7

            def MCL_GrabAllHandles(self):
                return 1 if self.MCL_InitHandle() else 0

            def MCL_GetHandleBySerial(self, serial):
                return 7 if self.owned and serial == 3003 else 0

            def MCL_ReleaseHandle(self, handle):
                CALLS.append(("release", handle))
                self.owned = False

            def MCL_GetCalibration(self, axis, handle):
                return 150.0 if (axis, handle) == (3, 7) else -7.0

            def MCL_SingleReadN(self, axis, handle):
                return self.z_um

            def MCL_SingleWriteN(self, position, axis, handle):
                CALLS.append(("write", position, axis, handle))
                if not 0.0 <= position <= 150.0:
                    return -6
                self.z_um = position
                return 0

            def MCL_GetSerialNumber(self, handle):
                return 3003
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("fake_mcl_wrapper", None)
    importlib.invalidate_caches()
    yield importlib.import_module("fake_mcl_wrapper")
    sys.modules.pop("fake_mcl_wrapper", None)


def test_wrapper_module_backend(wrapper_module: Any) -> None:
    params = NanoDriveParams(limits_um=(0.0, 150.0), backend="wrapper", settle_ms=0.0,
                             wrapper_module="fake_mcl_wrapper:NanoDriveWrapper")
    with NanoDriveStage(params) as stage:
        assert stage.source == "wrapper fake_mcl_wrapper:NanoDriveWrapper"
        stage.move_to_um((75.5,))
        assert stage.position_um() == (75.5,)
    assert wrapper_module.CALLS == ["init", ("write", 75.5, 3, 7), ("release", 7)]


def test_auto_falls_back_from_a_broken_library_to_the_wrapper(
    wrapper_module: Any, tmp_path: Path, no_installed_madlib: None
) -> None:
    broken = tmp_path / "broken.dll"
    broken.write_bytes(b"not a library")
    params = NanoDriveParams(limits_um=(0.0, 150.0), settle_ms=0.0, dll_path=str(broken),
                             wrapper_module="fake_mcl_wrapper:NanoDriveWrapper")
    with NanoDriveStage(params) as stage:
        assert stage.source.startswith("wrapper ")
        stage.move_to_um((10.0,))
    assert ("write", 10.0, 3, 7) in wrapper_module.CALLS


def test_auto_prefers_the_library_over_the_wrapper(install_fake_madlib: Callable[..., Any], wrapper_module: Any) -> None:
    installed = install_fake_madlib((2001, THREE_AXES))
    params = NanoDriveParams(limits_um=(0.0, 150.0), settle_ms=0.0, dll_path=str(installed.path),
                             wrapper_module="fake_mcl_wrapper:NanoDriveWrapper")
    with NanoDriveStage(params) as stage:
        assert stage.source == f"library {installed.path}"
    assert wrapper_module.CALLS == []


def test_without_the_library_one_clear_error_and_no_silent_simulation(no_installed_madlib: None) -> None:
    stage = NanoDriveStage(NanoDriveParams(limits_um=(0.0, 100.0)))
    with pytest.raises(ComponentError) as info:
        stage.initialize()
    message = str(info.value)
    assert message.startswith("Mad City Labs Madlib library not available: no Madlib library found")
    assert "'MCL_Madlib_Wrapper' is not installed" in message
    assert "Install the Mad City Labs Nano-Drive software" in message
    assert 'backend = "memory"' in message
    assert not stage.initialized


def test_missing_dll_path_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "Madlib.dll"
    with pytest.raises(ComponentError, match=rf"dll_path '{missing}' does not exist"):
        NanoDriveStage(NanoDriveParams(limits_um=(0.0, 100.0), backend="dll", dll_path=str(missing))).initialize()


def test_a_library_that_is_not_madlib(install_fake_madlib: Callable[..., Any]) -> None:
    installed = install_fake_madlib((2001, THREE_AXES))
    del installed.lib.MCL_SingleWriteN
    with pytest.raises(ComponentError, match="does not export MCL_SingleWriteN; it is not the Mad City Labs Madlib"):
        _stage(installed.path).initialize()


def test_in_memory_backend_takes_the_serial_number() -> None:
    with NanoDriveStage(NanoDriveParams(limits_um=(0.0, 200.0), backend="memory", serial_number=2849)) as stage:
        assert stage.serial_number == 2849


def test_in_memory_backend_quantises_and_rejects_out_of_range_writes() -> None:
    with NanoDriveStage(NanoDriveParams(limits_um=(0.0, 200.0), backend="memory", settle_ms=0.0)) as stage:
        assert stage.source == "in-memory simulation"
        stage.move_to_um((0.3,))
        assert stage.position_um()[0] == pytest.approx(round(0.3 / STEP_UM) * STEP_UM, abs=1e-12)
        assert stage.position_um()[0] != 0.3
    drive = InMemoryNanoDrive(range_um=100.0)
    handle = drive.init_handle()
    assert drive.init_handle() == 0, "a controller has one owner"
    assert drive.single_write_n(100.5, 3, handle) == -6  # MCL_ARGUMENT_ERROR
    assert drive.single_write_n(50.0, 4, handle) == -7  # MCL_INVALID_AXIS
    assert drive.single_read_n(3, handle + 1) == -8.0  # MCL_INVALID_HANDLE
    drive.release_handle(handle)
    assert drive.single_write_n(50.0, 3, handle) == -8


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"limits_um": (-1.0, 10.0)}, "0 <= low < high"),
        ({"limits_um": (5.0, 5.0)}, "0 <= low < high"),
        ({"limits_um": (0.0, 10.0), "settle_ms": -1.0}, "'settle_ms' must be >= 0"),
        ({"limits_um": (0.0, 10.0), "serial_number": 70000}, "1..32767"),
    ],
)
def test_params_are_validated(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NanoDriveParams(**values)
