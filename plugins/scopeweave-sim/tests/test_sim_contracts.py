import pytest
from scopeweave_sim import SimAstigmaticCamera, SimCameraParams, SimXYParams, SimXYStage, SimZParams, SimZStage

from scopeweave.testing import CameraContract, RegistrationContract, StageContract


class TestSimCamera(CameraContract):
    @pytest.fixture
    def camera(self) -> SimAstigmaticCamera:
        return SimAstigmaticCamera(SimCameraParams(sensor_shape_px=(32, 40)))


class TestSimCameraWithStages(CameraContract):
    @pytest.fixture
    def camera(self) -> SimAstigmaticCamera:
        z = SimZStage(SimZParams())
        xy = SimXYStage(SimXYParams())
        z.initialize()
        xy.initialize()
        return SimAstigmaticCamera(SimCameraParams(bit_depth=12), z_stage=z, xy_stage=xy)


class TestSimZ(StageContract):
    @pytest.fixture
    def stage(self) -> SimZStage:
        return SimZStage(SimZParams(limits_um=(10.0, 50.0), start_um=20.0))


class TestSimZQuantised(StageContract):
    position_tolerance_um = 0.05

    @pytest.fixture
    def stage(self) -> SimZStage:
        return SimZStage(SimZParams(step_um=0.1))


class TestSimXY(StageContract):
    @pytest.fixture
    def stage(self) -> SimXYStage:
        return SimXYStage(SimXYParams(limits_um=((-100.0, 100.0), (0.0, 50.0)), scale_x=1.01, backlash_um=(2.0, 1.0)))


class TestRegistration(RegistrationContract):
    plugin_module = "scopeweave_sim.plugin"
    forbidden_imports = ("tifffile", "scopeweave_sim.camera", "scopeweave_sim.zstack")
