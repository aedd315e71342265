"""Interfaces of every component kind."""

from scopeweave.kinds.camera import STANDARD_TRIGGER_MODES, Camera, FrameInfo, Roi, SupportsTriggerMode
from scopeweave.kinds.component import Component
from scopeweave.kinds.diffraction_mapper import DiffractionMapper
from scopeweave.kinds.focus_model import FittedFocusModel, FocusModel, ZEstimateLike
from scopeweave.kinds.frame_metric import BatchFrameMetric, FrameMetric, score_frames
from scopeweave.kinds.localizer import Localizer
from scopeweave.kinds.stage import Stage
from scopeweave.kinds.stage_corrector import StageCorrector
from scopeweave.kinds.workflow import Workflow

#: Interface each kind's factories must return.
INTERFACE_OF_KIND: dict[str, type] = {
    "camera": Camera,
    "stage": Stage,
    "focus_model": FocusModel,
    "frame_metric": FrameMetric,
    "localizer": Localizer,
    "diffraction_mapper": DiffractionMapper,
    "stage_corrector": StageCorrector,
    "workflow": Workflow,
}

__all__ = [
    "INTERFACE_OF_KIND",
    "STANDARD_TRIGGER_MODES",
    "BatchFrameMetric",
    "Camera",
    "Component",
    "DiffractionMapper",
    "FittedFocusModel",
    "FocusModel",
    "FrameInfo",
    "FrameMetric",
    "Localizer",
    "Roi",
    "Stage",
    "StageCorrector",
    "SupportsTriggerMode",
    "Workflow",
    "ZEstimateLike",
    "score_frames",
]
