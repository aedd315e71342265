"""The `andor` camera in sessions, on the fake Andor camera."""

from __future__ import annotations

from scopeweave_andor import TRIGGER_MODES
from scopeweave_pylablib.testing import PylablibSessionContract


class TestAndorSessions(PylablibSessionContract):
    entry_point = "andor"
    distribution = "scopeweave-andor"
    camera = "andor"
    trigger_modes = tuple(TRIGGER_MODES)
    refused_trigger_mode = "master_pulse"  # an ORCA mode
