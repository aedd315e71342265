"""The ctypes binding against a real shared library with Madlib's C signatures.

A C stand-in for Madlib is compiled (skipped without a C compiler) and loaded
by the plugin's own loader, so argument and result marshalling (double,
unsigned int, short) goes through real ctypes.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from scopeweave_mcl import MadlibError, NanoDriveParams, NanoDriveStage

from scopeweave.errors import StageLimitError

MADLIB_STUB = r"""
static int owned = 0;
static double z_um = 0.0;
static const double RANGE_UM = 100.0;

int MCL_InitHandle(void) { if (owned) return 0; owned = 1; return 5; }
int MCL_GrabAllHandles(void) { return MCL_InitHandle() ? 1 : (owned ? 1 : 0); }
int MCL_NumberOfCurrentHandles(void) { return owned; }
int MCL_GetAllHandles(int *handles, int size) { if (owned && size > 0) { handles[0] = 5; return 1; } return 0; }
int MCL_GetHandleBySerial(short serial) { return (owned && serial == 1234) ? 5 : 0; }
void MCL_ReleaseHandle(int handle) { if (handle == 5) owned = 0; }
double MCL_GetCalibration(unsigned int axis, int handle) {
    if (handle != 5 || !owned) return -8.0;
    return axis == 3 ? RANGE_UM : -7.0;
}
double MCL_SingleReadN(unsigned int axis, int handle) {
    if (handle != 5 || !owned) return -8.0;
    return axis == 3 ? z_um : -7.0;
}
int MCL_SingleWriteN(double position, unsigned int axis, int handle) {
    if (handle != 5 || !owned) return -8;
    if (axis != 3) return -7;
    if (position < 0.0 || position > RANGE_UM) return -6;
    z_um = position;
    return 0;
}
int MCL_GetSerialNumber(int handle) { return handle == 5 ? 1234 : -8; }
"""


@pytest.fixture(scope="module")
def stub_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the Madlib stand-in")
    folder = tmp_path_factory.mktemp("madlib")
    source = folder / "madlib_stub.c"
    source.write_text(MADLIB_STUB)
    library = folder / "libmadlib_stub.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(source)], check=True, capture_output=True)
    return library


def test_real_ctypes_round_trip(stub_library: Path) -> None:
    params = NanoDriveParams(limits_um=(0.0, 100.0), backend="dll", dll_path=str(stub_library), settle_ms=0.0,
                             serial_number=1234)
    with NanoDriveStage(params) as stage:
        assert stage.calibrated_range_um == 100.0
        assert stage.serial_number == 1234
        stage.move_to_um((37.123456789,))
        assert stage.position_um() == (37.123456789,)  # a double survives the round trip exactly
        with pytest.raises(StageLimitError):
            stage.move_to_um((100.5,))
    with NanoDriveStage(params) as again:  # the handle was released at shutdown
        assert again.position_um() == (37.123456789,)


def test_real_ctypes_error_codes(stub_library: Path) -> None:
    params = NanoDriveParams(limits_um=(0.0, 100.0), backend="dll", dll_path=str(stub_library), settle_ms=0.0,
                             axis="y")
    with pytest.raises(MadlibError, match=r"MCL_GetCalibration\(axis 'y' = 2\) failed: MCL_INVALID_AXIS \(-7\)"):
        NanoDriveStage(params).initialize()
