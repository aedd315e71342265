"""Test helpers for the plugins of pylablib cameras (they need pytest; the library itself does not).

Fakes
-----
:class:`FakePylablibCamera`, :class:`FakeSensor`
    A faithful fake of pylablib's common camera interface and of one connected
    camera; a vendor plugin's ``tests/conftest.py`` subclasses both for its SDK.
:class:`FakePylablib`
    Puts the vendor's fake where pylablib keeps the real class and connects a
    camera: a plugin's ``fake_pylablib`` fixture returns one.
:func:`expected_frame`
    What a camera must return of the fakes' known scene.

Contract classes (subclass them in a vendor plugin's tests)
-----------------------------------------------------------
:class:`PylablibCameraContract`
    :class:`scopeweave.testing.CameraContract` and what every pylablib camera does.
:class:`PylablibSessionContract`
    The camera registered through its entry point and used in sessions.
"""

import pytest

# Before they are imported, so that their failed assertions show the values (as in test modules).
pytest.register_assert_rewrite(*(f"{__name__}.{module}" for module in ("camera_contract", "install", "session_contract")))

from scopeweave_pylablib.testing.camera_contract import PylablibCameraContract  # noqa: E402
from scopeweave_pylablib.testing.fake import FakePylablibCamera, FakeSensor  # noqa: E402
from scopeweave_pylablib.testing.install import FakeConnection, FakePylablib  # noqa: E402
from scopeweave_pylablib.testing.scene import expected_frame  # noqa: E402
from scopeweave_pylablib.testing.session_contract import PylablibSessionContract  # noqa: E402

__all__ = [
    "FakeConnection",
    "FakePylablib",
    "FakePylablibCamera",
    "FakeSensor",
    "PylablibCameraContract",
    "PylablibSessionContract",
    "expected_frame",
]
