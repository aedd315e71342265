"""Entry-point module of scopeweave-4dstem (light: the numerics load when a component is built)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from scopeweave import DiffractionMapperSpec, Role, WorkflowSpec, hookimpl
from scopeweave_4dstem.params import (
    ClusterPolarParams,
    GatedComParams,
    PolarMapParams,
    StemMapParams,
    StemSynthesizeParams,
)

if TYPE_CHECKING:
    import click


def _gated_com(params: GatedComParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_4dstem.mappers import GatedComMapper

    return GatedComMapper(params)


def _cluster_polar(params: ClusterPolarParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_4dstem.mappers import ClusterPolarMapper

    return ClusterPolarMapper(params)


def _polar_map(params: PolarMapParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_4dstem.workflows import PolarMap

    return PolarMap(params)


def _stem_map(params: StemMapParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_4dstem.workflows import StemMap

    return StemMap(params, uses["mapper"])


def _stem_synthesize(params: StemSynthesizeParams, uses: Mapping[str, Any]) -> Any:
    from scopeweave_4dstem.workflows import StemSynthesize

    return StemSynthesize(params)


@hookimpl
def scopeweave_diffraction_mappers() -> Iterable[DiffractionMapperSpec]:
    return [
        DiffractionMapperSpec(
            name="gated-com",
            summary="Centre of mass in a radial band: baseline, scan rotation/flip, projected field (streamed on Dask).",
            params_type=GatedComParams,
            factory=_gated_com,
        ),
        DiffractionMapperSpec(
            name="cluster-polar",
            summary="Cluster templates, matched-filter maps and cluster-gated CoM fields from cluster labels.",
            params_type=ClusterPolarParams,
            factory=_cluster_polar,
        ),
    ]


@hookimpl
def scopeweave_workflows() -> Iterable[WorkflowSpec]:
    return [
        WorkflowSpec(
            name="polar-map",
            summary="Cluster-guided virtual detectors and gated-CoM polarisation maps (kspace/, realspace/, figures/, logs/).",
            params_type=PolarMapParams,
            factory=_polar_map,
        ),
        WorkflowSpec(
            name="stem-map",
            summary="Run a DiffractionMapper over a 4D-STEM dataset; one TIFF per map.",
            params_type=StemMapParams,
            factory=_stem_map,
            uses={"mapper": Role(kind="diffraction_mapper", summary="the mapper to run")},
        ),
        WorkflowSpec(
            name="stem-synthesize",
            summary="Write a synthetic 4D-STEM dataset (HDF5) with known field, clusters and labels.",
            params_type=StemSynthesizeParams,
            factory=_stem_synthesize,
        ),
    ]


@hookimpl
def scopeweave_register_commands(cli: click.Group) -> None:
    from scopeweave_4dstem.cli import group

    cli.add_command(group)
