"""Mad City Labs Nano-Drive Z stage for scopeweave (Madlib through ctypes)."""

from scopeweave_mcl.loading import open_madlib
from scopeweave_mcl.madlib import AXIS_INDEX, CtypesMadlib, Madlib, MadlibError, WrapperMadlib
from scopeweave_mcl.memory import InMemoryNanoDrive
from scopeweave_mcl.stage import NanoDriveParams, NanoDriveStage

__all__ = [
    "AXIS_INDEX",
    "CtypesMadlib",
    "InMemoryNanoDrive",
    "Madlib",
    "MadlibError",
    "NanoDriveParams",
    "NanoDriveStage",
    "WrapperMadlib",
    "open_madlib",
]
