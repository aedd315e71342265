"""Workflows: ``stage-correct``, ``stage-learn``, ``stitch-register`` and ``stage-scan-sim``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from numpy.typing import NDArray

from scopeweave.atomic import atomic_path, write_text_atomic
from scopeweave.errors import ScopeweaveError
from scopeweave.runs import RunContext
from scopeweave_stagecorrect.actions import (
    bigstitcher_results,
    correct_tile_set,
    learn_from_files,
    mist_tiles,
    register_tile_set,
)
from scopeweave_stagecorrect.dataset import TileSet, load_tile_set
from scopeweave_stagecorrect.formats.bigstitcher import write_stitching_results
from scopeweave_stagecorrect.formats.mist import write_global_positions
from scopeweave_stagecorrect.formats.tileconfig import (
    TileConfiguration,
    TileEntry,
    corrected_name,
    registered_name,
    write_tile_configuration,
)
from scopeweave_stagecorrect.synthetic import cut_tile, grid_targets_um, make_specimen, scan_stage
from scopeweave_stagecorrect.workflow_params import (
    StageCorrectParams,
    StageLearnParams,
    StageScanSimParams,
    StitchRegisterParams,
)

__all__ = ["StageCorrect", "StageLearn", "StageScanSim", "StitchRegister"]


def _resolve(context: RunContext, name: str) -> Path:
    """A relative input path is relative to the session file's folder (else the working directory)."""
    path = Path(name).expanduser()
    if not path.is_absolute() and context.session_path is not None:
        candidate = context.session_path.parent / path
        if candidate.exists() or not path.exists():
            return candidate
    return path


# ---------------------------------------------------------------------------------------------
# stage-correct


class StageCorrect:
    """Metadata positions -> corrected positions (TileConfiguration.corrected.txt)."""

    def __init__(self, params: StageCorrectParams, corrector: Any) -> None:
        self.params = params
        self.corrector = corrector

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        source = _resolve(context, p.input)
        tile_set = load_tile_set(source, pixel_size_um=p.pixel_size_um or None, scene=p.scene)
        with context.timed("correct"):
            corrected, summary = correct_tile_set(tile_set, self.corrector)
        write_tile_configuration(context.product_path(p.output), corrected)
        written = [p.output]
        if p.write_beside_input:
            beside = corrected_name(source if source.suffix == ".txt" else source.with_suffix(".txt"))
            write_tile_configuration(beside, corrected)
            written.append(str(beside))
        write_text_atomic(context.product_path("classification.txt"), summary["debug"] + "\n")
        context.write_json("corrections.json", summary["tiles_detail"])
        context.events.emit("corrected", tiles=summary["tiles"], max_shift_px=summary["max_shift_px"])
        return {
            "tiles": summary["tiles"],
            "mean_shift_px": summary["mean_shift_px"],
            "max_shift_px": summary["max_shift_px"],
            "status": summary["status"],
            "written": written,
            "summary": (f"corrected {summary['tiles']} tiles (mean shift {summary['mean_shift_px']:.1f} px, "
                        f"max {summary['max_shift_px']:.1f} px). {summary['status']}"),
        }


# ---------------------------------------------------------------------------------------------
# stage-learn


class StageLearn:
    """Metadata + registered positions -> updated profile."""

    def __init__(self, params: StageLearnParams, corrector: Any) -> None:
        self.params = params
        self.corrector = corrector

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        tile_set = load_tile_set(_resolve(context, p.metadata), pixel_size_um=p.pixel_size_um or None, scene=p.scene)
        with context.timed("learn"):
            report = learn_from_files(self.corrector, tile_set, _resolve(context, p.registered),
                                      default_confidence=min(1.0, p.default_confidence),
                                      min_confidence=p.min_confidence)
        context.write_json("learn-report.json", report)
        context.write_json("profile.json", report["profile"])
        rms = report["residual_rms_px"]
        context.events.emit("learned", status=report["status"], residual_rms_px=rms)
        return {
            "residual_rms_px": rms,
            "residual_max_px": report["residual_max_px"],
            "classes": report["classes"],
            "status": report["status"],
            "settings_file": report["settings_file"],
            "summary": (f"learned from {report['confident_tiles']} tiles: residual {rms['metadata']:.2f} px RMS "
                        f"uncorrected -> {rms['updated_profile']:.2f} px corrected. {report['status']}"),
        }


# ---------------------------------------------------------------------------------------------
# stitch-register


class StitchRegister:
    """Register neighbouring tiles from the corrected priors; write TileConfiguration.registered.txt."""

    def __init__(self, params: StitchRegisterParams, corrector: Any | None) -> None:
        self.params = params
        self.corrector = corrector

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        source = _resolve(context, p.input)
        tile_set = load_tile_set(source, pixel_size_um=p.pixel_size_um or None, scene=p.scene)
        if p.learn and self.corrector is None:
            raise ScopeweaveError("learn = true needs a stage corrector (wire the 'corrector' role)")
        n_pairs_hint = max(1, 2 * len(tile_set))
        with context.progress("register", n_pairs_hint) as progress, context.timed("register"):
            outcome = register_tile_set(
                tile_set, corrector=self.corrector, priors=p.priors, method=p.method,
                search_radius_px=p.search_radius_px, max_shift_um=p.max_shift_um,
                pixel_size_um=p.pixel_size_um or None, min_ncc=p.min_ncc, on_pair=progress.advance,
            )
        registration = outcome.registration
        registered = tile_set.config.with_positions(registration.positions_px, registration.confidence)
        write_tile_configuration(context.product_path("TileConfiguration.registered.txt"), registered)
        write_stitching_results(context.product_path("stitching-results.xml"), bigstitcher_results(outcome))
        write_global_positions(context.product_path("global-positions-0.txt"), mist_tiles(tile_set, outcome))
        write_tile_configuration(context.product_path("TileConfiguration.priors.txt"),
                                 tile_set.config.with_positions(outcome.priors_px))
        if p.write_beside_input:
            write_tile_configuration(registered_name(source if source.suffix == ".txt" else source.with_suffix(".txt")),
                                     registered)
        summary = outcome.summary()
        context.events.emit("registered", **{k: v for k, v in summary.items() if k != "method"})
        results: dict[str, Any] = {"registration": summary}
        text = (f"registered {summary['tiles']} tiles from {p.priors} priors in {summary['time_s']:.2f} s "
                f"({summary['links_used']}/{summary['pairs']} links, search radius {summary['search_radius_px']:.0f} px)")
        if p.learn and self.corrector is not None:
            report = self.corrector.learn(tile_set.metadata_px, registration.positions_px, registration.confidence)
            context.write_json("learn-report.json", report)
            results["learn"] = {k: report[k] for k in ("residual_rms_px", "residual_max_px", "status")}
            text += f". {report['status']}"
        results["summary"] = text
        return results


# ---------------------------------------------------------------------------------------------
# stage-scan-sim


class _Tiles:
    def __init__(self, images: list[NDArray[np.float32]]) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def image(self, index: int) -> NDArray[np.float32]:
        return self.images[index]


def _rms_vs_truth(positions: Any, truth: Any) -> tuple[float, float]:
    d = np.asarray(positions, dtype=float) - np.asarray(truth, dtype=float)
    d -= d.mean(axis=0)
    distance = np.sqrt(np.sum(d * d, axis=1))
    return float(np.sqrt(np.mean(distance**2))), float(distance.max())


class StageScanSim:
    """Scan a synthetic specimen with an XY stage, register from corrected priors, learn; repeat."""

    def __init__(self, params: StageScanSimParams, stage: Any, corrector: Any) -> None:
        self.params = params
        self.stage = stage
        self.corrector = corrector

    def run(self, context: RunContext) -> Mapping[str, Any]:
        p = self.params
        h, w = p.tile_shape_px
        step_um = ((1.0 - p.overlap_fraction) * w * p.pixel_size_um, (1.0 - p.overlap_fraction) * h * p.pixel_size_um)
        targets = grid_targets_um(cols=p.cols, rows=p.rows, step_um=step_um, origin_um=p.origin_um, pattern=p.pattern)
        extent_px = (max(t[0] for t in targets) - p.origin_um[0]) / p.pixel_size_um + w, \
                    (max(t[1] for t in targets) - p.origin_um[1]) / p.pixel_size_um + h
        margin_px = int(0.15 * max(extent_px) + 2 * p.max_shift_um / p.pixel_size_um + 32)
        specimen = make_specimen((int(extent_px[1]) + 2 * margin_px, int(extent_px[0]) + 2 * margin_px),
                                 seed=p.specimen_seed)
        origin_px = (p.origin_um[0] / p.pixel_size_um - margin_px, p.origin_um[1] / p.pixel_size_um - margin_px)
        rng = np.random.default_rng(p.specimen_seed + 1)
        sessions = []
        with context.progress("sessions", p.n_sessions) as progress:
            for index in range(1, p.n_sessions + 1):
                sessions.append(self._session(context, index, targets, specimen, origin_px, rng))
                progress.advance()
        last = sessions[-1]
        results: dict[str, Any] = {"sessions": sessions, "status": self.corrector.status()}
        results["summary"] = (
            f"{p.n_sessions} session(s), {len(targets)} tiles: last session RMS vs truth "
            f"{last['metadata_rms_px']:.2f} px uncorrected, {last['corrected_rms_px']:.2f} px corrected, "
            f"{last['registered_rms_px']:.2f} px registered. {results['status']}"
        )
        return results

    def _session(self, context: RunContext, index: int, targets: Any, specimen: NDArray[np.float32],
                 origin_px: tuple[float, float], rng: np.random.Generator) -> dict[str, Any]:
        p = self.params
        scan = scan_stage(self.stage, targets, park_um=p.park_um)
        metadata_px = [(x / p.pixel_size_um - origin_px[0], y / p.pixel_size_um - origin_px[1])
                       for x, y in scan.metadata_um]
        truth_px = [(x / p.pixel_size_um - origin_px[0], y / p.pixel_size_um - origin_px[1])
                    for x, y in scan.truth_um]
        images = []
        for position in truth_px:
            tile = cut_tile(specimen, position, p.tile_shape_px)
            images.append(rng.poisson(tile).astype(np.float32) if p.photon_noise else tile)
        folder = f"session_{index:02d}"
        names = [f"tile_{i:03d}.tif" for i in range(len(images))]
        config = TileConfiguration(dim=2, tiles=tuple(
            TileEntry(file=name, position=position) for name, position in zip(names, metadata_px, strict=False)))
        write_tile_configuration(context.product_path(f"{folder}/TileConfiguration.txt"), config)
        if p.write_tiles:
            for name, image in zip(names, images, strict=False):
                with atomic_path(context.product_path(f"{folder}/{name}")) as tmp:
                    tifffile.imwrite(tmp, np.clip(image, 0, 65535).astype(np.uint16), photometric="minisblack")
        tile_set = TileSet(path=context.run_dir / folder / "TileConfiguration.txt", config=config,
                           pixel_size_um=p.pixel_size_um)
        source = _Tiles(images)
        corrected = self.corrector.correct(metadata_px)
        outcome = register_tile_set(tile_set, corrector=self.corrector, priors="corrected",
                                    search_radius_px=p.search_radius_px, max_shift_um=p.max_shift_um,
                                    pixel_size_um=p.pixel_size_um, source=source)
        registration = outcome.registration
        write_tile_configuration(context.product_path(f"{folder}/TileConfiguration.corrected.txt"),
                                 config.with_positions(corrected))
        write_tile_configuration(context.product_path(f"{folder}/TileConfiguration.registered.txt"),
                                 config.with_positions(registration.positions_px, registration.confidence))
        context.write_json(f"{folder}/truth.json", {"truth_px": truth_px, "metadata_px": metadata_px})
        record: dict[str, Any] = {"session": index}
        for label, positions in (("metadata", metadata_px), ("corrected", corrected),
                                 ("registered", registration.positions_px)):
            rms, worst = _rms_vs_truth(positions, truth_px)
            record[f"{label}_rms_px"], record[f"{label}_max_px"] = rms, worst
        record["register_time_s"] = registration.time_s
        record["search_radius_px"] = registration.search_radius_px
        record["tiles_without_links"] = int(sum(1 for c in registration.confidence if c <= 0))
        if p.compare_metadata_priors:
            from_metadata = register_tile_set(tile_set, corrector=self.corrector, priors="metadata",
                                              max_shift_um=p.max_shift_um, pixel_size_um=p.pixel_size_um,
                                              source=source).registration
            record["metadata_priors_register_time_s"] = from_metadata.time_s
            record["metadata_priors_search_radius_px"] = from_metadata.search_radius_px
            record["metadata_priors_registered_rms_px"] = _rms_vs_truth(from_metadata.positions_px, truth_px)[0]
        report = self.corrector.learn(metadata_px, registration.positions_px, registration.confidence)
        context.write_json(f"{folder}/learn-report.json", report)
        record["status"] = report["status"]
        record = {k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else v) for k, v in record.items()}
        context.events.emit("session", **record)
        return record
