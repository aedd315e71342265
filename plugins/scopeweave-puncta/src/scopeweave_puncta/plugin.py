"""Entry-point module of scopeweave-puncta: localizers, workflows and the ``puncta`` commands."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import click

from scopeweave import LocalizerSpec, Role, WorkflowSpec, hookimpl
from scopeweave_puncta.deep import registrations as deep
from scopeweave_puncta.localizers import GaussFitLocalizer, GaussFitParams
from scopeweave_puncta.workflows import (
    AnalyzeParams,
    EvaluateParams,
    LocalizeParams,
    PunctaWorkflow,
    SimulateParams,
    SimulateWorkflow,
    TrackParams,
)


@hookimpl
def scopeweave_localizers() -> Iterable[LocalizerSpec]:
    return [
        LocalizerSpec(
            name="gauss-mle",
            summary="Wavelet/DoG detection + integrated-Gaussian Poisson MLE fit (numba) with CRLB uncertainty.",
            params_type=GaussFitParams,
            factory=lambda params, uses: GaussFitLocalizer(params, method="mle"),
        ),
        LocalizerSpec(
            name="gauss-lsq",
            summary="Wavelet/DoG detection + integrated-Gaussian weighted least-squares fit (ThunderSTORM-like).",
            params_type=GaussFitParams,
            factory=lambda params, uses: GaussFitLocalizer(params, method="lsq"),
        ),
        *deep.localizers(),
    ]


def _localizer_role(required: bool) -> dict[str, Role]:
    summary = "localizes movies" + ("" if required else " that have no localizations.csv yet")
    return {"localizer": Role(kind="localizer", required=required, summary=summary)}


def _sample_workflow(goal: str) -> Any:
    def factory(params: Any, uses: Mapping[str, Any]) -> PunctaWorkflow:
        return PunctaWorkflow(params, goal=goal, localizer=uses.get("localizer"))  # type: ignore[arg-type]

    return factory


@hookimpl
def scopeweave_workflows() -> Iterable[WorkflowSpec]:
    return [
        WorkflowSpec(
            name="puncta-simulate",
            summary="Synthetic puncta movies (Gaussian/Airy PSF, blinking, diffusion, calcium channel) with ground truth.",
            params_type=SimulateParams,
            factory=lambda params, uses: SimulateWorkflow(params),
        ),
        WorkflowSpec(
            name="puncta-localize",
            summary="Localize movies (a file or folders, on Dask) into localizations.csv.",
            params_type=LocalizeParams,
            factory=_sample_workflow("localize"),
            uses=_localizer_role(True),
        ),
        WorkflowSpec(
            name="puncta-track",
            summary="LAP tracking with gap closing, MSD and mobile/immobile classification -> tracks.csv.",
            params_type=TrackParams,
            factory=_sample_workflow("track"),
            uses=_localizer_role(False),
        ),
        WorkflowSpec(
            name="puncta-evaluate",
            summary="Localization, tracking and calcium-event metrics against ground truth (JSON + table).",
            params_type=EvaluateParams,
            factory=_sample_workflow("evaluate"),
            uses=_localizer_role(False),
        ),
        WorkflowSpec(
            name="puncta-analyze",
            summary="ΔF/F0 traces at puncta, calcium events, co-occurrence statistics and figures.",
            params_type=AnalyzeParams,
            factory=_sample_workflow("analyze"),
            uses=_localizer_role(False),
        ),
        *deep.workflows(),
    ]


@hookimpl
def scopeweave_register_commands(cli: click.Group) -> None:
    from scopeweave_puncta.cli import puncta

    cli.add_command(puncta)
