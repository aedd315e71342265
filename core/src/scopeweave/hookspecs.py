"""pluggy hook specifications.

A plugin is a module (named by an entry point in the ``scopeweave.plugins``
group) holding functions decorated with :data:`hookimpl`.  Each registration
hook takes no arguments and returns an iterable of registration objects from
:mod:`scopeweave.specs`::

    from scopeweave import hookimpl, FrameMetricSpec

    @hookimpl
    def scopeweave_frame_metrics():
        return [FrameMetricSpec(name="my-metric", summary="...", factory=make_metric)]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click

    from scopeweave.specs import (
        CameraSpec,
        DiffractionMapperSpec,
        FocusModelSpec,
        FrameMetricSpec,
        LocalizerSpec,
        StageCorrectorSpec,
        StageSpec,
        WorkflowSpec,
    )

PROJECT_NAME = "scopeweave"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

#: Registration hook name of each kind.
HOOK_OF_KIND: dict[str, str] = {
    "camera": "scopeweave_cameras",
    "stage": "scopeweave_stages",
    "focus_model": "scopeweave_focus_models",
    "frame_metric": "scopeweave_frame_metrics",
    "localizer": "scopeweave_localizers",
    "diffraction_mapper": "scopeweave_diffraction_mappers",
    "stage_corrector": "scopeweave_stage_correctors",
    "workflow": "scopeweave_workflows",
}


class ScopeweaveSpecs:
    """The hooks a scopeweave plugin may implement."""

    @hookspec
    def scopeweave_cameras(self) -> Iterable[CameraSpec]:
        """Register cameras (:class:`~scopeweave.kinds.Camera` factories)."""
        yield from ()

    @hookspec
    def scopeweave_stages(self) -> Iterable[StageSpec]:
        """Register stages (:class:`~scopeweave.kinds.Stage` factories)."""
        yield from ()

    @hookspec
    def scopeweave_focus_models(self) -> Iterable[FocusModelSpec]:
        """Register focus models (:class:`~scopeweave.kinds.FocusModel` factories)."""
        yield from ()

    @hookspec
    def scopeweave_frame_metrics(self) -> Iterable[FrameMetricSpec]:
        """Register frame metrics (:class:`~scopeweave.kinds.FrameMetric` factories)."""
        yield from ()

    @hookspec
    def scopeweave_localizers(self) -> Iterable[LocalizerSpec]:
        """Register localizers (:class:`~scopeweave.kinds.Localizer` factories)."""
        yield from ()

    @hookspec
    def scopeweave_diffraction_mappers(self) -> Iterable[DiffractionMapperSpec]:
        """Register 4D-STEM mappers (:class:`~scopeweave.kinds.DiffractionMapper` factories)."""
        yield from ()

    @hookspec
    def scopeweave_stage_correctors(self) -> Iterable[StageCorrectorSpec]:
        """Register stage correctors (:class:`~scopeweave.kinds.StageCorrector` factories)."""
        yield from ()

    @hookspec
    def scopeweave_workflows(self) -> Iterable[WorkflowSpec]:
        """Register workflows (:class:`~scopeweave.kinds.Workflow` factories)."""
        yield from ()

    @hookspec
    def scopeweave_register_commands(self, cli: click.Group) -> None:
        """Add click subcommands to the ``scopeweave`` command group."""
