"""The three operations, shared by the workflows and the command line.

``correct``: metadata positions -> corrected positions.
``learn``: metadata + registered positions -> updated profile.
``register``: tiles + (corrected or metadata) priors -> registered positions with confidences.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from scopeweave.errors import ScopeweaveError
from scopeweave_stagecorrect.dataset import TileSet, load_registered
from scopeweave_stagecorrect.formats.bigstitcher import PairwiseResult
from scopeweave_stagecorrect.formats.mist import MistTile
from scopeweave_stagecorrect.formats.tileconfig import TileConfiguration
from scopeweave_stagecorrect.pure.movement import grid_indices
from scopeweave_stagecorrect.registration.register import Registration, TileSource, register_tiles
from scopeweave_stagecorrect.workflow_params import ASHLAR_MAX_SHIFT_UM

__all__ = [
    "ASHLAR_MAX_SHIFT_UM",
    "RegisterOutcome",
    "bigstitcher_results",
    "correct_tile_set",
    "learn_from_files",
    "mist_tiles",
    "register_tile_set",
]

def _corrector_required(corrector: Any, what: str) -> Any:
    if corrector is None:
        raise ScopeweaveError(f"{what} needs a stage corrector (wire the 'corrector' role)")
    return corrector


def correct_tile_set(tile_set: TileSet, corrector: Any) -> tuple[TileConfiguration, dict[str, Any]]:
    """Corrected positions as a TileConfiguration, and a summary (shift per tile, debug output)."""
    metadata = tile_set.metadata_px
    corrected = corrector.correct(metadata)
    shifts = [math.hypot(c[0] - m[0], c[1] - m[1]) for c, m in zip(corrected, metadata, strict=False)]
    debug = corrector.debug(metadata) if hasattr(corrector, "debug") else ""
    summary = {
        "tiles": len(metadata),
        "mean_shift_px": float(np.mean(shifts)) if shifts else 0.0,
        "max_shift_px": float(np.max(shifts)) if shifts else 0.0,
        "status": corrector.status(),
        "debug": debug,
        "tiles_detail": [
            {"file": t.file, "series": t.series, "metadata_px": list(m), "corrected_px": list(c)}
            for t, m, c in zip(tile_set.config.tiles, metadata, corrected, strict=False)
        ],
    }
    return tile_set.config.with_positions(corrected), summary


def learn_from_files(
    corrector: Any, tile_set: TileSet, registered_path: str | Path, *, default_confidence: float = 1.0,
    min_confidence: float = 0.0,
) -> Mapping[str, Any]:
    """Learn from a registered file (Fiji, MIST or BigStitcher) matched to ``tile_set``."""
    registered = load_registered(registered_path, tile_set, default_confidence=default_confidence)
    confidence = [c if c >= min_confidence else 0.0 for c in registered.confidence]
    report = dict(corrector.learn(tile_set.metadata_px, registered.positions_px, confidence))
    report["registered_format"] = registered.source_format
    return report


@attrs.frozen(kw_only=True)
class RegisterOutcome:
    """A registration and the priors it started from.

    Attributes
    ----------
    registration
        Positions, confidences, pairs and timing.
    priors_px
        The priors used.
    priors_kind
        'corrected' or 'metadata'.
    method
        'phase-correlation' or 'm2stitch'.
    """

    registration: Registration
    priors_px: tuple[tuple[float, float], ...]
    priors_kind: str
    method: str

    def summary(self) -> dict[str, Any]:
        """Numbers for reports."""
        reg = self.registration
        shifts = [p.shift for p in reg.pairs if p.shift is not None]
        used = [p for p in reg.pairs if p.used]
        return {
            "method": self.method,
            "priors": self.priors_kind,
            "tiles": len(reg.positions_px),
            "search_radius_px": reg.search_radius_px,
            "pairs": len(reg.pairs),
            "links_used": len(used),
            "median_ncc": float(np.median([s.ncc for s in shifts])) if shifts else None,
            "tiles_without_links": int(sum(1 for c in reg.confidence if c <= 0)),
            "time_s": reg.time_s,
            "prior_to_registered_rms_px": _rms_after_mean(self.priors_px, reg.positions_px),
        }


def _rms_after_mean(a: Sequence[tuple[float, float]], b: Sequence[tuple[float, float]]) -> float:
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    if len(d) == 0:
        return math.nan
    d -= d.mean(axis=0)
    return float(np.sqrt(np.mean(np.sum(d * d, axis=1))))


def register_tile_set(
    tile_set: TileSet,
    *,
    corrector: Any,
    priors: str,
    method: str = "phase-correlation",
    search_radius_px: float = 0.0,
    max_shift_um: float = ASHLAR_MAX_SHIFT_UM,
    pixel_size_um: float | None = None,
    min_ncc: float = 0.3,
    on_pair: Callable[[], None] | None = None,
    source: TileSource | None = None,
) -> RegisterOutcome:
    """Register ``tile_set`` starting from corrected or metadata priors.

    The search radius, when 0, is automatic: ``max_shift_um`` / pixel size for
    metadata priors (ASHLAR's default bound on stage error) and, for corrected
    priors, ``2 * last residual max + 2`` px from the corrector's profile.
    ``source`` supplies the images when they are not read from the tile set's files.
    """
    images: TileSource = source if source is not None else tile_set
    if priors not in ("corrected", "metadata"):
        raise ScopeweaveError(f"priors must be 'corrected' or 'metadata' (got {priors!r})")
    if method not in ("phase-correlation", "m2stitch"):
        raise ScopeweaveError(f"method must be 'phase-correlation' or 'm2stitch' (got {method!r})")
    metadata = tile_set.metadata_px
    size_um = pixel_size_um or tile_set.pixel_size_um
    if size_um is None and corrector is not None:
        size_um = corrector.profile().pixel_size_um
    if size_um is None or size_um <= 0:
        raise ScopeweaveError("the pixel size is unknown: give pixel_size_um (needed for the search radius)")
    fallback = max_shift_um / size_um
    if priors == "corrected":
        corrector = _corrector_required(corrector, "priors = 'corrected'")
        prior_px = corrector.correct(metadata)
        radius = search_radius_px or corrector.suggested_search_radius_px(fallback)
    else:
        prior_px = metadata
        radius = search_radius_px or fallback
    if method == "m2stitch":
        from scopeweave_stagecorrect.registration.m2stitch_backend import register_with_m2stitch

        registration = register_with_m2stitch(images, prior_px, search_radius_px=radius)
    else:
        registration = register_tiles(images, prior_px, search_radius_px=radius, min_ncc=min_ncc, on_pair=on_pair)
    return RegisterOutcome(registration=registration, priors_px=tuple((float(x), float(y)) for x, y in prior_px),
                           priors_kind=priors, method=method)


def bigstitcher_results(outcome: RegisterOutcome) -> list[PairwiseResult]:
    """Pairwise results (BigStitcher convention: shift relative to the priors), one per registered pair."""
    results = []
    for pair in outcome.registration.pairs:
        if pair.shift is None:
            continue
        results.append(PairwiseResult(
            setups_a=(pair.a,), setups_b=(pair.b,),
            shift_px=(pair.shift.correction_px[0], pair.shift.correction_px[1], 0.0),
            correlation=pair.shift.ncc,
        ))
    return results


def mist_tiles(tile_set: TileSet, outcome: RegisterOutcome) -> list[MistTile]:
    """MIST global positions of the registration (grid cells from the metadata layout)."""
    cells = grid_indices(tile_set.metadata_px)
    positions = np.asarray(outcome.registration.positions_px)
    positions = positions - positions.min(axis=0)
    return [
        MistTile(file=t.file if t.series is None else f"{t.file}[{t.series}]", corr=c, position_px=(x, y), grid=cell)
        for t, c, (x, y), cell in zip(tile_set.config.tiles, outcome.registration.confidence, positions, cells, strict=False)
    ]
