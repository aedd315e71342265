"""Contract test classes, one per kind (python-microscope's ``DeviceTests`` idea).

Subclass one in a plugin's tests and provide its fixture; every test of the
contract then runs against the plugin's component.
"""

from scopeweave.testing.contracts.camera import CameraContract
from scopeweave.testing.contracts.diffraction_mapper import DiffractionMapperContract as DiffractionMapperContract
from scopeweave.testing.contracts.focus_model import FocusModelContract as FocusModelContract
from scopeweave.testing.contracts.frame_metric import FrameMetricContract
from scopeweave.testing.contracts.localizer import LocalizerContract as LocalizerContract
from scopeweave.testing.contracts.registration import RegistrationContract
from scopeweave.testing.contracts.stage import StageContract
from scopeweave.testing.contracts.stage_corrector import StageCorrectorContract as StageCorrectorContract

__all__ = ["CameraContract", "FrameMetricContract", "RegistrationContract", "StageContract"]
