"""Fixtures: a real ``UniMMCore`` loading the Python devices of ``scopeweave_mm_testdevices``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest
from scopeweave_micromanager import CORES

# Configuration files load the test devices by module name (`#py pyDevice,<label>,<module>,<class>`).
TESTS_DIR = str(Path(__file__).parent)
if TESTS_DIR not in sys.path:
    sys.path.insert(0, TESTS_DIR)

import scopeweave_mm_testdevices as devices  # noqa: E402


@attrs.frozen
class Microscope:
    """A configuration file of Python devices and the world they share."""

    config_path: Path
    world_name: str

    @property
    def world(self) -> devices.World:
        return devices.world(self.world_name)


@pytest.fixture(autouse=True)
def _micromanager_path(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An existing MICROMANAGER_PATH (no C++ adapters in it), and no core left open after a test."""
    monkeypatch.setenv("MICROMANAGER_PATH", str(tmp_path_factory.mktemp("micromanager")))
    yield
    CORES.close_all()


def config_text(world_name: str, *, extra: str = "", camera_class: str = "AstigmaticCamera") -> str:
    module = devices.__name__
    return "\n".join([
        "# A simulated astigmatic microscope made of Python devices.",
        f"#py pyDevice,Z,{module},AstigmaticFocusStage",
        f"#py pyDevice,XY,{module},SampleXYStage",
        f"#py pyDevice,Cam,{module},{camera_class}",
        "Property,Core,Initialize,1",
        f"#py Property,Z,World,{world_name}",
        f"#py Property,XY,World,{world_name}",
        f"#py Property,Cam,World,{world_name}" if camera_class != "BrokenCamera" else "",
        "#py Property,Core,Camera,Cam",
        "#py Property,Core,Focus,Z",
        "#py Property,Core,XYStage,XY",
        extra,
        "",
    ])


@pytest.fixture
def make_microscope(tmp_path: Path) -> Callable[..., Microscope]:
    """Write a configuration file; each call gets its own world."""
    counter = iter(range(1000))

    def make(*, extra: str = "", camera_class: str = "AstigmaticCamera", name: str = "scope.cfg") -> Microscope:
        world_name = f"{tmp_path.name}-{next(counter)}"
        path = tmp_path / name
        path.write_text(config_text(world_name, extra=extra, camera_class=camera_class))
        return Microscope(path, world_name)

    return make


@pytest.fixture
def microscope(make_microscope: Callable[..., Microscope]) -> Microscope:
    """The default microscope: noise-free camera, bead in focus at Z = 100 um."""
    return make_microscope(extra="#py Property,Cam,Noise,0")
