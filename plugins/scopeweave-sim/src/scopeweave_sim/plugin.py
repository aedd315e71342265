"""Entry-point module of scopeweave-sim: registrations only; implementations load in the factories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scopeweave import CameraSpec, Role, StageSpec, WorkflowSpec, hookimpl
from scopeweave_sim.params import SimCameraParams, SimXYParams, SimZParams, ZStackParams


def _make_camera(params: SimCameraParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_sim.camera import SimAstigmaticCamera

    z_stage, xy_stage = uses.get("stage"), uses.get("xy_stage")
    if z_stage is not None and z_stage.axes != ("z",):
        raise ValueError(f"role 'stage' must be a Z stage (axes ('z',)); got axes {z_stage.axes}")
    if xy_stage is not None and xy_stage.axes != ("x", "y"):
        raise ValueError(f"role 'xy_stage' must be an XY stage (axes ('x', 'y')); got axes {xy_stage.axes}")
    return SimAstigmaticCamera(params, z_stage=z_stage, xy_stage=xy_stage)


def _make_z(params: SimZParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_sim.stages import SimZStage

    return SimZStage(params)


def _make_xy(params: SimXYParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_sim.stages import SimXYStage

    return SimXYStage(params)


def _make_zstack(params: ZStackParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_sim.zstack import ZStack

    return ZStack(params, camera=uses["camera"], stage=uses["stage"])


@hookimpl
def scopeweave_cameras() -> Iterable[CameraSpec]:
    return [
        CameraSpec(
            name="sim-astigmatic",
            summary="Simulated camera: astigmatic beads rendered from the Z/XY stage positions and drift.",
            params_type=SimCameraParams,
            factory=_make_camera,
            uses={
                "stage": Role(kind="stage", required=False, summary="Z stage whose position sets the defocus"),
                "xy_stage": Role(kind="stage", required=False, summary="XY stage whose true position moves the sample"),
            },
        )
    ]


@hookimpl
def scopeweave_stages() -> Iterable[StageSpec]:
    return [
        StageSpec(
            name="sim-z",
            summary="Simulated Z (focus) stage with limits, settle time, quantisation and fault injection.",
            params_type=SimZParams,
            factory=_make_z,
        ),
        StageSpec(
            name="sim-xy",
            summary="Simulated XY stage with optional scale, skew, backlash, move noise and thermal drift.",
            params_type=SimXYParams,
            factory=_make_xy,
        ),
    ]


@hookimpl
def scopeweave_workflows() -> Iterable[WorkflowSpec]:
    return [
        WorkflowSpec(
            name="sim-zstack",
            summary="Record a Z stack around the current focus into a TIFF (and a CSV of plane statistics).",
            params_type=ZStackParams,
            factory=_make_zstack,
            uses={
                "camera": Role(kind="camera", summary="the camera to record"),
                "stage": Role(kind="stage", summary="the Z stage to step"),
            },
        )
    ]
