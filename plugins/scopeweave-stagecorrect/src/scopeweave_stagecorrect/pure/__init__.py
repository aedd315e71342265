"""The correction math, standard library only (no numpy): runs in any Python, e.g. a Fiji script.

:mod:`.movement` classifies moves, :mod:`.models` lists each tile's offsets,
:mod:`.engine` applies and learns a :class:`~.profile.Profile`.
"""

from scopeweave_stagecorrect.pure.engine import correction_debug, learn, predict, residual_stats, status_message
from scopeweave_stagecorrect.pure.models import MODELS, get_model
from scopeweave_stagecorrect.pure.movement import Move, classify_moves, grid_layout, lut_mask, state_code, state_sequence
from scopeweave_stagecorrect.pure.profile import Affine, Offset, Profile, ProfileFormatError, Thermal, profile_from_dict

__all__ = [
    "MODELS",
    "Affine",
    "Move",
    "Offset",
    "Profile",
    "ProfileFormatError",
    "Thermal",
    "classify_moves",
    "correction_debug",
    "get_model",
    "grid_layout",
    "learn",
    "lut_mask",
    "predict",
    "profile_from_dict",
    "residual_stats",
    "state_code",
    "state_sequence",
    "status_message",
]
