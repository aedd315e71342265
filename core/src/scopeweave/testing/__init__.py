"""Test helpers for plugin authors (also a pytest plugin, entry point ``pytest11``).

Fixtures
--------
``scopeweave_registry``
    A fresh :class:`~scopeweave.registry.Registry` in strict mode holding the
    built-in plugin and every installed entry point.
``empty_registry``
    A fresh strict registry with nothing registered.
``register_plugin``
    ``register_plugin(obj, name=...)`` registers a plugin object for one test.

Contract classes (subclass them in a plugin's tests):
:class:`CameraContract`, :class:`StageContract`, :class:`FrameMetricContract`,
:class:`RegistrationContract`.
"""

from scopeweave.testing.contracts import (
    CameraContract,
    FrameMetricContract,
    RegistrationContract,
    StageContract,
)
from scopeweave.testing.contracts.diffraction_mapper import DiffractionMapperContract as DiffractionMapperContract
from scopeweave.testing.contracts.focus_model import FocusModelContract as FocusModelContract
from scopeweave.testing.contracts.localizer import LocalizerContract as LocalizerContract
from scopeweave.testing.contracts.stage_corrector import StageCorrectorContract as StageCorrectorContract
from scopeweave.testing.fixtures import isolated_registry

__all__ = [
    "CameraContract",
    "FrameMetricContract",
    "RegistrationContract",
    "StageContract",
    "isolated_registry",
]
