"""scopeweave: a plugin framework for microscopy.

Plugins register cameras, stages, focus models, frame metrics, localizers,
4D-STEM mappers, stage correctors and workflows through pluggy hooks; a TOML
session file puts them together.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scopeweave")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"

from scopeweave.hookspecs import hookimpl
from scopeweave.specs import (
    KINDS,
    CameraSpec,
    ComponentSpec,
    DiffractionMapperSpec,
    FocusModelSpec,
    FrameMetricSpec,
    LocalizerSpec,
    NoParams,
    Role,
    StageCorrectorSpec,
    StageSpec,
    WorkflowSpec,
)

__all__ = [
    "KINDS",
    "CameraSpec",
    "ComponentSpec",
    "DiffractionMapperSpec",
    "FocusModelSpec",
    "FrameMetricSpec",
    "LocalizerSpec",
    "NoParams",
    "Role",
    "StageCorrectorSpec",
    "StageSpec",
    "WorkflowSpec",
    "__version__",
    "hookimpl",
]
