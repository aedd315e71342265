"""Entry-point module of scopeweave-stagecorrect: stage correctors, workflows and CLI commands."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scopeweave import Role, StageCorrectorSpec, WorkflowSpec, hookimpl
from scopeweave_stagecorrect.corrector import BacklashStateParams, LutAffineParams, StoredCorrector
from scopeweave_stagecorrect.workflow_params import (
    StageCorrectParams,
    StageLearnParams,
    StageScanSimParams,
    StitchRegisterParams,
)

_CORRECTOR_ROLE = Role(kind="stage_corrector", summary="the stage corrector (and its stored profile)")


def _xy_stage(stage: Any) -> Any:
    if tuple(getattr(stage, "axes", ())) != ("x", "y"):
        raise ValueError(f"role 'xy_stage' must be an XY stage (axes ('x', 'y')); got axes {getattr(stage, 'axes', None)}")
    return stage


@hookimpl
def scopeweave_stage_correctors() -> Iterable[StageCorrectorSpec]:
    return [
        StageCorrectorSpec(
            name="lut-affine",
            summary="Affine stage matrix + movement-mask LUT of offsets + thermal drift, learned from stitching.",
            params_type=LutAffineParams,
            factory=lambda params, uses: StoredCorrector("lut-affine", params),
        ),
        StageCorrectorSpec(
            name="backlash-state",
            summary="Affine + per-axis backlash state machine (reversals, first down, rapids) + thermal drift.",
            params_type=BacklashStateParams,
            factory=lambda params, uses: StoredCorrector("backlash-state", params),
        ),
    ]


def _stage_correct(params: StageCorrectParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_stagecorrect.workflows import StageCorrect

    return StageCorrect(params, uses["corrector"])


def _stage_learn(params: StageLearnParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_stagecorrect.workflows import StageLearn

    return StageLearn(params, uses["corrector"])


def _stitch_register(params: StitchRegisterParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_stagecorrect.workflows import StitchRegister

    return StitchRegister(params, uses.get("corrector"))


def _scan_sim(params: StageScanSimParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_stagecorrect.workflows import StageScanSim

    return StageScanSim(params, stage=_xy_stage(uses["xy_stage"]), corrector=uses["corrector"])


@hookimpl
def scopeweave_workflows() -> Iterable[WorkflowSpec]:
    return [
        WorkflowSpec(
            name="stage-correct",
            summary="Correct metadata tile positions: TileConfiguration.txt (or CZI) -> TileConfiguration.corrected.txt.",
            params_type=StageCorrectParams,
            factory=_stage_correct,
            uses={"corrector": _CORRECTOR_ROLE},
        ),
        WorkflowSpec(
            name="stage-learn",
            summary="Learn the stage corrections from metadata + registered positions (Fiji, MIST, BigStitcher).",
            params_type=StageLearnParams,
            factory=_stage_learn,
            uses={"corrector": _CORRECTOR_ROLE},
        ),
        WorkflowSpec(
            name="stitch-register",
            summary="Register tiles by phase correlation from corrected priors; write TileConfiguration.registered.txt.",
            params_type=StitchRegisterParams,
            factory=_stitch_register,
            uses={"corrector": Role(kind="stage_corrector", required=False,
                                    summary="gives the corrected priors (and learns when learn = true)")},
        ),
        WorkflowSpec(
            name="stage-scan-sim",
            summary="Learning sessions on a simulated stage: scan a synthetic specimen, register, learn, repeat.",
            params_type=StageScanSimParams,
            factory=_scan_sim,
            uses={"xy_stage": Role(kind="stage", summary="an XY stage reporting true_position_um() (sim-xy)"),
                  "corrector": _CORRECTOR_ROLE},
        ),
    ]


@hookimpl
def scopeweave_register_commands(cli: Any) -> None:
    from scopeweave_stagecorrect.cli import register_commands

    register_commands(cli)
