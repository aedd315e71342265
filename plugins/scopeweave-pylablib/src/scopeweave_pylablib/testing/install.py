"""Connecting a fake camera where pylablib keeps the vendor's camera class."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from scopeweave_pylablib.testing.fake import FakePylablibCamera, FakeSensor

__all__ = ["FakeConnection", "FakePylablib"]


@attrs.frozen
class FakeConnection:
    """What a test gets from :class:`FakePylablib`: the connected camera's sensor, and the fake camera once opened."""

    sensor: FakeSensor

    @property
    def camera(self) -> FakePylablibCamera:
        """The fake pylablib camera that has the sensor open."""
        opened = self.sensor.opened_by
        assert opened is not None, "the camera is not open"
        return opened


@attrs.frozen
class FakePylablib:
    """Replaces a vendor's pylablib camera class with its fake, for one test.

    A vendor plugin's ``tests/conftest.py`` returns one from its
    ``fake_pylablib`` fixture; the contract classes of
    :mod:`scopeweave_pylablib.testing` use that fixture.
    """

    monkeypatch: pytest.MonkeyPatch
    #: The vendor's fake (it names the pylablib class it replaces and its sensor class).
    camera_class: type[FakePylablibCamera]

    def __call__(self, **sensor_fields: Any) -> FakeConnection:
        """Connect one camera whose sensor has ``sensor_fields`` (the defaults: a 64 x 48 px camera)."""
        sensor = self.camera_class.sensor_class(**sensor_fields)
        fake_class = type(self.camera_class.__name__, (self.camera_class,), {"sensors": [sensor]})
        self.monkeypatch.setattr(self.camera_class.pylablib_class, fake_class)
        return FakeConnection(sensor)
