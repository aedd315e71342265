"""Entry-point module of scopeweave-micromanager (imports no pymmcore-plus)."""

from __future__ import annotations

from collections.abc import Iterable

from scopeweave import CameraSpec, StageSpec, hookimpl
from scopeweave_micromanager.camera import MMCamera, MMCameraParams
from scopeweave_micromanager.stages import MMFocusParams, MMFocusStage, MMXYParams, MMXYStage


@hookimpl
def scopeweave_cameras() -> Iterable[CameraSpec]:
    return [
        CameraSpec(
            name="micromanager",
            summary="A camera of a Micro-Manager configuration through pymmcore-plus UniMMCore (C++ adapters and "
            "#py Python devices): exposure, ROI, snap and circular-buffer sequences.",
            params_type=MMCameraParams,
            factory=lambda params, uses: MMCamera(params),
        )
    ]


@hookimpl
def scopeweave_stages() -> Iterable[StageSpec]:
    return [
        StageSpec(
            name="micromanager",
            summary="The focus (Z) stage of a Micro-Manager configuration; limits enforced before any move.",
            params_type=MMFocusParams,
            factory=lambda params, uses: MMFocusStage(params),
        ),
        StageSpec(
            name="micromanager-xy",
            summary="The XY stage of a Micro-Manager configuration; limits enforced before any move.",
            params_type=MMXYParams,
            factory=lambda params, uses: MMXYStage(params),
        ),
    ]
