"""Entry-point module of scopeweave-focuslock (focus models and workflows)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import click

from scopeweave import FocusModelSpec, NoParams, Role, WorkflowSpec, hookimpl
from scopeweave_focuslock.lock.params import FocusLockParams
from scopeweave_focuslock.params import CalibrateParams, PolynomialParams, ZhuangParams


def _zhuang(params: ZhuangParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_focuslock.models import ZhuangFocusModel

    return ZhuangFocusModel(params)


def _linear(params: PolynomialParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_focuslock.models import LinearFocusModel

    return LinearFocusModel(params)


def _poly2(params: PolynomialParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_focuslock.models import Poly2FocusModel

    return Poly2FocusModel(params)


def _piecewise(params: NoParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_focuslock.models import PiecewiseFocusModel

    return PiecewiseFocusModel()


def _calibrate(params: CalibrateParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_focuslock.sweep import CalibrationSweep

    return CalibrationSweep(params, camera=uses["camera"], stage=uses["stage"], model=uses.get("focus_model"))


def _lock(params: FocusLockParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_focuslock.lock.workflow import FocusLock

    return FocusLock(params, camera=uses["camera"], stage=uses["stage"], model=uses.get("focus_model"))


@hookimpl
def scopeweave_focus_models() -> Iterable[FocusModelSpec]:
    return [
        FocusModelSpec(
            name="zhuang", params_type=ZhuangParams, factory=_zhuang,
            summary="Per-axis Huang/Zhuang width model w(z) = w0 sqrt(1 + X^2 + A X^3 + B X^4), sqrt-width inversion.",
        ),
        FocusModelSpec(
            name="linear", params_type=PolynomialParams, factory=_linear,
            summary="Straight line through the ellipticity around focus, over its linear range.",
        ),
        FocusModelSpec(
            name="poly2", params_type=PolynomialParams, factory=_poly2,
            summary="Quadratic in z through the ellipticity around focus, analytic inversion.",
        ),
        FocusModelSpec(
            name="piecewise", params_type=NoParams, factory=_piecewise,
            summary="Linear interpolation between the sweep's monotonic per-step mean ellipticities.",
        ),
    ]


@hookimpl
def scopeweave_workflows() -> Iterable[WorkflowSpec]:
    return [
        WorkflowSpec(
            name="focus-calibrate",
            summary="Sweep Z through focus, fit the astigmatic spot (two-pass theta), fit and gate a focus model.",
            params_type=CalibrateParams,
            factory=_calibrate,
            uses={
                "camera": Role(kind="camera", summary="camera that sees the astigmatic spot"),
                "stage": Role(kind="stage", summary="Z stage to sweep (returned to its start)"),
                "focus_model": Role(kind="focus_model", required=False, summary="focus model to fit (default zhuang)"),
            },
        ),
        WorkflowSpec(
            name="focus-lock",
            summary="Closed-loop astigmatic focus lock: relative Z corrections with every safeguard, XY ROI tracking.",
            params_type=FocusLockParams,
            factory=_lock,
            uses={
                "camera": Role(kind="camera", summary="camera that sees the astigmatic spot"),
                "stage": Role(kind="stage", summary="Z stage the lock moves (the only thing it moves)"),
                "focus_model": Role(kind="focus_model", required=False,
                                    summary="focus model for calibrate_first (default zhuang)"),
            },
        ),
    ]


@hookimpl
def scopeweave_register_commands(cli: click.Group) -> None:
    from scopeweave_focuslock.cli import focuslock
    from scopeweave_focuslock.feedback_cli import focus_feedback

    cli.add_command(focuslock)
    cli.add_command(focus_feedback)
