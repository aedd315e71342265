"""Entry-point module of scopeweave-focusmetrics: every metric and the three workflows.

Heavy modules (numba kernels, matplotlib, dask) load inside the factories.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scopeweave import FrameMetricSpec, Role, WorkflowSpec, hookimpl
from scopeweave_focusmetrics.metrics import CATALOGUE
from scopeweave_focusmetrics.workflow_params import AutofocusParams, CalibrationParams, FrameQcParams


def _metric_factory(name: str) -> Any:
    def make(params: Any, uses: Mapping[str, Any]) -> Any:
        return CATALOGUE[name].cls(params)

    return make


def _frame_qc(params: FrameQcParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_focusmetrics.workflows.frame_qc import FrameQc

    return FrameQc(params, metric=uses.get("metric"))


def _calibration(params: CalibrationParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_focusmetrics.workflows.calibration import FocusCalibration

    return FocusCalibration(params)


def _autofocus(params: AutofocusParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_focusmetrics.workflows.autofocus import SharpnessAutofocus

    return SharpnessAutofocus(params, camera=uses["camera"], stage=uses["stage"], metric=uses.get("metric"))


@hookimpl
def scopeweave_frame_metrics() -> Iterable[FrameMetricSpec]:
    return [
        FrameMetricSpec(name=name, summary=entry.summary, params_type=entry.params_type, factory=_metric_factory(name))
        for name, entry in CATALOGUE.items()
    ]


@hookimpl
def scopeweave_workflows() -> Iterable[WorkflowSpec]:
    return [
        WorkflowSpec(
            name="frame-qc",
            summary="Frame QC of z-stacks / time series: blur, motion and drift flags, kept frames, figures, report.",
            params_type=FrameQcParams,
            factory=_frame_qc,
            uses={"metric": Role(kind="frame_metric", required=False, summary="sharpness metric (default: params.metric)")},
        ),
        WorkflowSpec(
            name="focus-calibration",
            summary="Rank metrics on labelled bad/okay/great references (ROC AUC) and write a QC profile.",
            params_type=CalibrationParams,
            factory=_calibration,
        ),
        WorkflowSpec(
            name="sharpness-autofocus",
            summary="Image-based autofocus: coarse Z scan, then Brent / golden refinement of any FrameMetric.",
            params_type=AutofocusParams,
            factory=_autofocus,
            uses={
                "camera": Role(kind="camera", summary="the camera to score"),
                "stage": Role(kind="stage", summary="the Z stage to move"),
                "metric": Role(kind="frame_metric", required=False, summary="sharpness metric (default: params.metric)"),
            },
        ),
    ]
