"""The `orca` camera in sessions, on the fake DCAM camera."""

from __future__ import annotations

from scopeweave_hamamatsu import TRIGGER_MODES
from scopeweave_pylablib.testing import PylablibSessionContract


class TestOrcaSessions(PylablibSessionContract):
    entry_point = "hamamatsu"
    distribution = "scopeweave-hamamatsu"
    camera = "orca"
    trigger_modes = tuple(TRIGGER_MODES)
    refused_trigger_mode = "external_exposure"  # an Andor mode
