"""Workflows: ``polar-map`` (the seed's pipeline), ``stem-map`` (any DiffractionMapper) and ``stem-synthesize``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from scopeweave.atomic import atomic_path, write_json_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave.kinds import DiffractionMapper
from scopeweave.runs import RunContext
from scopeweave_4dstem import figures
from scopeweave_4dstem.engine import PolarResult, analyse
from scopeweave_4dstem.labels import load_labels
from scopeweave_4dstem.outputs import params_table, write_outputs
from scopeweave_4dstem.params import (
    CalibrationParams,
    DataParams,
    PolarMapParams,
    StemMapParams,
    StemSynthesizeParams,
    SyntheticParams,
)
from scopeweave_4dstem.source import FrameSource, Hdf5Source
from scopeweave_4dstem.synthetic import SyntheticTruth, write_hdf5

__all__ = ["PolarMap", "StemMap", "StemSynthesize", "load_inputs"]


def _resolve(context: RunContext, path: str) -> Path:
    """A path from the session: relative ones are taken from the session file's folder."""
    candidate = Path(os.path.expanduser(path))
    if candidate.is_absolute():
        return candidate
    base = context.session_path.parent if context.session_path is not None else Path.cwd()
    return base / candidate


def load_inputs(
    context: RunContext, data: DataParams, synthetic: SyntheticParams, *, need_labels: bool
) -> tuple[FrameSource, NDArray[np.int64] | None, SyntheticTruth | None]:
    """Open (or first generate, into ``input/``) the dataset and its labels."""
    truth = None
    if data.source == "synthetic":
        with context.timed("synthesize"):
            path = context.product_path("input/synthetic.h5")
            truth = write_hdf5(path, synthetic, dataset="/data")
            labels_path = context.product_path("input/labels.npy")
            with atomic_path(labels_path) as tmp:
                np.save(tmp, truth.noisy_labels)
            truth.save(context.product_path("input/truth.npz"))
        context.events.emit("synthesized", path=str(path), scan_shape=list(synthetic.scan_shape))
        source = Hdf5Source.open(path, "/data")
        return source, (load_labels(labels_path, source.scan_shape) if need_labels else None), truth
    source = Hdf5Source.open(_resolve(context, data.path), data.dataset, data.scan_shape)
    labels = None
    if need_labels:
        if not data.labels:
            raise ScopeweaveError("data.labels is required: the cluster labels (.npy or .npz), one per probe position.")
        labels = load_labels(_resolve(context, data.labels), source.scan_shape, key=data.labels_key)
    return source, labels, truth


def _resolved_config(params: PolarMapParams, result: PolarResult) -> dict[str, Any]:
    calibration = attrs.evolve(
        params.calibration,
        center_y_px=result.centre.y_px,
        center_x_px=result.centre.x_px,
        pixel_size_ky=result.kcal.ky,
        pixel_size_kx=result.kcal.kx,
        k_units=result.kcal.units,
        interactive_center=False,
        interactive_kspace=False,
    )
    dpc = params.dpc
    if dpc.estimate_rotation:
        dpc = attrs.evolve(
            dpc, estimate_rotation=False, rotation_deg=result.rotation["angle_deg"], flip_y=result.rotation["flip_y"]
        )
    return params_table(attrs.evolve(params, calibration=calibration, dpc=dpc))


def _interactive_pickers(calibration: CalibrationParams) -> dict[str, Any]:
    if not (calibration.interactive_center or calibration.interactive_kspace):
        return {}
    from scopeweave_4dstem import gui

    gui.require_display()
    return {
        "pick_centre": gui.pick_centre,
        "pick_kspace": lambda pattern, centre: gui.calibrate_kspace(
            pattern, centre, spacing_angstrom=calibration.known_spacing_angstrom,
            refine_radius_px=calibration.refine_radius_px,
        ),
    }


class PolarMap:
    """Cluster-guided templates, matched-filter maps and gated-CoM polarisation maps, written as the seed's tree."""

    def __init__(self, params: PolarMapParams) -> None:
        self.params = params

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        pickers = _interactive_pickers(p.calibration)
        source, labels, truth = load_inputs(context, p.data, p.synthetic, need_labels=True)
        context.events.emit("data", source=source.description, scan_shape=list(source.scan_shape),
                            frame_shape=list(source.frame_shape), dtype=str(source.dtype))
        with context.timed("analyse"):
            result = analyse(source, labels, p.settings, p, progress=context.progress, **pickers)
        for note in result.warnings:
            context.events.emit("warning", message=note)
        scan_step = None
        if p.calibration.pixel_size is not None:
            scan_step = (p.calibration.pixel_size, "nm" if p.calibration.pixel_size_units == "nm" else "Å")
        with context.timed("write"):
            write_outputs(
                result,
                context.product_path,
                config=_resolved_config(p, result),
                provenance={"data": source.description, "labels": p.data.labels or "generated"},
                make_figures=p.figures,
                quiver_step=p.quiver_step,
                scan_step=scan_step,
            )
        summary = result.summary()
        if truth is not None and result.assignment is not None:
            summary["synthetic_check"] = {
                "assignment_accuracy": float(np.mean(result.assignment == truth.labels)),
                "given_label_accuracy": float(np.mean(truth.noisy_labels == truth.labels)),
            }
        mean_conf = summary.get("confidence", {}).get("mean")
        text = (
            f"polar-map: {source.scan_shape[0]}x{source.scan_shape[1]} probe positions, "
            f"{result.cluster_ids.size} clusters, mean confidence {mean_conf:.2f}, "
            f"|E| median {summary['field_magnitude']['median']:.3g} {result.field.units}, "
            f"{len(result.warnings)} warning(s)"
        )
        return {"summary": text, **summary}


class StemMap:
    """Run any DiffractionMapper over a dataset; write each map as ``realspace/<name>.tif``."""

    def __init__(self, params: StemMapParams, mapper: DiffractionMapper) -> None:
        self.params = params
        self.mapper = mapper

    def run(self, context: RunContext) -> Mapping[str, Any]:
        source, _, _ = load_inputs(context, self.params.data, self.params.synthetic, need_labels=False)
        with context.timed("map"):
            maps = dict(self.mapper.map(source))
        import tifffile

        stats: dict[str, Any] = {}
        for name, array in maps.items():
            values = np.asarray(array)
            if values.shape != source.scan_shape:
                raise ScopeweaveError(
                    f"the mapper returned map {name!r} of shape {list(values.shape)}; expected the scan shape "
                    f"{list(source.scan_shape)}."
                )
            with atomic_path(context.product_path(f"realspace/{name}.tif")) as tmp:
                tifffile.imwrite(tmp, values.astype(np.float32), metadata={"axes": "YX"})
            finite = values[np.isfinite(values)]
            stats[name] = {
                "min": float(finite.min()) if finite.size else None,
                "max": float(finite.max()) if finite.size else None,
                "mean": float(finite.mean()) if finite.size else None,
                "n_nan": int(values.size - finite.size),
            }
        write_json_atomic(context.product_path("maps.json"), stats)
        if self.params.figures and maps:
            _save_map_montage(context.product_path("figures/maps.png"), maps)
        results: dict[str, Any] = {
            "summary": f"stem-map: {len(maps)} maps of {source.scan_shape[0]}x{source.scan_shape[1]}",
            "maps": stats,
        }
        last = getattr(self.mapper, "last_result", None)
        if isinstance(last, PolarResult):
            results["analysis"] = last.summary()
        return results


def _save_map_montage(path: Path, maps: Mapping[str, Any]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(maps)
    columns = min(4, len(names))
    rows = -(-len(names) // columns)
    figure = Figure(figsize=(3.2 * columns, 2.8 * rows), dpi=100)
    FigureCanvasAgg(figure)
    for i, name in enumerate(names):
        ax = figure.add_subplot(rows, columns, i + 1)
        shown = ax.imshow(np.asarray(maps[name], dtype=np.float64), cmap="viridis", interpolation="nearest")
        figure.colorbar(shown, ax=ax, fraction=0.046, pad=0.02)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", bbox_inches="tight")


class StemSynthesize:
    """Write a synthetic 4D-STEM dataset with known field, clusters and labels (a quick test input)."""

    def __init__(self, params: StemSynthesizeParams) -> None:
        self.params = params

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params.synthetic
        with context.timed("synthesize"), context.progress("synthesize", 1) as bar:
            path = context.product_path(self.params.filename)
            truth = write_hdf5(path, p, dataset="/data")
            bar.advance()
        with atomic_path(context.product_path("labels.npy")) as tmp:
            np.save(tmp, truth.noisy_labels)
        truth.save(context.product_path("truth.npz"))
        figures.save_hsv_polarisation(
            context.product_path("figures/true_field.png"), truth.field_y, truth.field_x, units="px"
        )
        size_mb = os.path.getsize(path) / 1e6
        return {
            "summary": f"stem-synthesize: {p.scan_shape[0]}x{p.scan_shape[1]} patterns of "
            f"{p.detector_shape_px[0]}x{p.detector_shape_px[1]} px in {self.params.filename} ({size_mb:.1f} MB)",
            "path": str(path),
            "dataset": "/data",
            "scan_shape": list(p.scan_shape),
            "n_clusters": p.n_clusters,
        }
