"""A pylablib camera registered through its entry point and used in sessions, on its vendor's fake."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import tifffile

from scopeweave.errors import SessionError
from scopeweave.registry import Registry
from scopeweave.session import plan_session, run_session
from scopeweave_pylablib.params import PylablibCameraParams
from scopeweave_pylablib.testing.install import FakePylablib
from scopeweave_pylablib.testing.scene import expected_frame

__all__ = ["PylablibSessionContract"]


class PylablibSessionContract:
    """Sessions with the camera of a vendor plugin, in a strict registry holding only that plugin.

    Subclass it in the plugin's tests and set the class attributes; the
    plugin's ``tests/conftest.py`` provides the ``fake_pylablib`` fixture (see
    :class:`~scopeweave_pylablib.testing.PylablibCameraContract`).
    """

    #: Name of the plugin's entry point, of its distribution, and of its camera.
    entry_point: ClassVar[str]
    distribution: ClassVar[str]
    camera: ClassVar[str]
    #: The camera's trigger modes, and one of another vendor that its params refuse.
    trigger_modes: ClassVar[tuple[str, ...]]
    refused_trigger_mode: ClassVar[str]

    def registry(self) -> Registry:
        """A strict registry with the built-ins and this plugin only."""
        registry = Registry(strict=True, blocked=())
        registry.register_builtins()
        registry.load_entry_points(
            [ep for ep in importlib.metadata.entry_points(group="scopeweave.plugins") if ep.name == self.entry_point]
        )
        return registry

    def session(self, **params: Any) -> dict[str, Any]:
        """A session acquiring 4 frames with the camera (label ``cam``) and these params."""
        return {
            "schema_version": 1,
            "session": {"name": f"{self.camera}-acquire"},
            "components": {"cam": {"kind": "camera", "plugin": self.camera, "params": {"pixel_size_um": 0.065, **params}}},
            "workflow": {"plugin": "acquire", "params": {"n_frames": 4}, "uses": {"camera": "cam"}},
        }

    def test_registered_through_the_entry_point(self) -> None:
        assert self.registry().distribution_of("camera", self.camera)[0] == self.distribution

    def test_acquire_session_on_the_fake_camera(self, fake_pylablib: FakePylablib, tmp_path: Path) -> None:
        fake = fake_pylablib()
        registry = self.registry()
        plan = plan_session(self.session(roi_px=[16, 8, 32, 24], binning=2, exposure_ms=5.0), registry)
        assert fake.sensor.opened_by is None, "validation opens nothing"
        outcome = run_session(plan, registry, output_root=tmp_path)
        assert outcome.status == "ok"
        frames = tifffile.imread(outcome.run_dir / "frames.tif")
        row_time_s = fake_pylablib.camera_class.row_time_s
        exposure_s = round(0.005 / row_time_s) * row_time_s
        truth = expected_frame(48, 64, exposure_s, (16, 8, 32, 24), 2)
        assert frames.shape == (4, 12, 16)
        for frame in frames:
            np.testing.assert_array_equal(frame, truth)
        assert fake.sensor.opened_by is None, "the session closed the camera"

    def test_params_take_the_shared_fields_and_the_camera_trigger_modes(self) -> None:
        registry = self.registry()
        params_type = registry.get("camera", self.camera).params_type
        for mode in self.trigger_modes:
            plan = plan_session(self.session(roi_px=[16, 8, 32, 24], binning=2, buffer_frames=8, trigger_mode=mode),
                                registry)
            params = plan.components[0].params
            assert type(params) is params_type
            assert isinstance(params, PylablibCameraParams)
            assert (params.roi_px, params.binning, params.buffer_frames, params.trigger_mode) == ((16, 8, 32, 24), 2, 8, mode)

    def test_params_problems_are_reported_at_their_field(self) -> None:
        bad = {"trigger_mode": self.refused_trigger_mode, "buffer_frames": 1, "exposure_ms": "20", "bit_depth": 4}
        with pytest.raises(SessionError) as info:
            plan_session(self.session(**bad), self.registry())
        paths = {problem.path: problem.message for problem in info.value.problems}
        assert set(paths) == {f"$.components.cam.params.{key}" for key in bad}
        assert repr(self.refused_trigger_mode) in paths["$.components.cam.params.trigger_mode"]
        assert paths["$.components.cam.params.buffer_frames"] == "'buffer_frames' must be >= 2 (got 1)."
        with pytest.raises(SessionError, match=r"\$\.components\.cam\.params: 'roi_px' width and height must be multiples"):
            plan_session(self.session(roi_px=[0, 0, 9, 8], binning=2), self.registry())
